import KeelService
import Logging
import Synchronization
import Testing

@Suite struct RedactionTests {
    @Test func masksPasswordsInURLs() {
        #expect(
            Redaction.maskingURLPasswords(in: "connect postgres://keel:s3cr3t@127.0.0.1:5432/keel failed")
                == "connect postgres://keel:[REDACTED]@127.0.0.1:5432/keel failed")
        #expect(
            Redaction.maskingURLPasswords(in: "a amqp://u:p%40ss@h/v and http://x:y@z?q")
                == "a amqp://u:[REDACTED]@h/v and http://x:[REDACTED]@z?q")
        #expect(Redaction.maskingURLPasswords(in: "http://host/path@x") == "http://host/path@x")
        #expect(Redaction.maskingURLPasswords(in: "no url here") == "no url here")
    }

    @Test(arguments: ["password", "db_password", "Authorization", "callback_token", "client_secret"])
    func secretKeys(key: String) {
        #expect(Redaction.isSecretKey(key))
    }

    @Test(arguments: ["run_id", "step", "correlation_id", "attempt"])
    func ordinaryKeys(key: String) {
        #expect(!Redaction.isSecretKey(key))
    }

    @Test func logHandlerNeverWritesSecrets() {
        let lines = Mutex<[String]>([])
        for format in LogFormat.allCases {
            var logger = Logger(label: "test") { label in
                KeelLogHandler(
                    label: label, service: "step-executor", format: format, level: .trace,
                    sink: { line in lines.withLock { $0.append(line) } })
            }
            logger[metadataKey: "run_id"] = "0193a0c4-run"
            logger.info(
                "connecting to postgres://keel:hunter2@db/keel",
                metadata: ["token": "kcb_abcdef", "url": "amqp://u:hunter2@h/keel", "step": "patch"])
        }
        let output = lines.withLock { $0 }
        #expect(output.count == 2)
        for line in output {
            #expect(!line.contains("hunter2"))
            #expect(!line.contains("kcb_abcdef"))
            #expect(line.contains("0193a0c4-run"))
            #expect(line.contains("step-executor"))
            #expect(line.contains("patch"))
        }
        #expect(output[0].contains("run_id=0193a0c4-run"))
        #expect(output[1].hasPrefix("{") && output[1].contains("\"run_id\":\"0193a0c4-run\""))
    }
}
