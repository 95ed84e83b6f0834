import Foundation
import KeelCore
import KeelService
import KeelStore
import Logging
import Synchronization
import Testing

/// The log lines themselves: a run's fields in JSON and logfmt, values escaped so every line parses, and
/// no credential written whatever key or text it hides in.
@Suite struct KeelLogHandlerTests {
    static let run = RunID("0193a0c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b")!
    static let context = RunLogContext(
        runID: run, correlationID: "corr \"quoted\" = yes", flow: "deploy", release: 3, step: "build",
        attempt: 2, traceID: "4bf92f3577b34da6a3ce929d0e0e4736")

    /// Lines written by a logger of `format` with `secrets` masked.
    func lines(_ format: LogFormat, secrets: [String] = [], _ body: (Logger) -> Void) -> [String] {
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "keel.test") { label in
            KeelLogHandler(
                label: label, service: "step-executor", format: format, level: .debug, secrets: secrets,
                sink: { line in lines.withLock { $0.append(line) } })
        }
        body(logger)
        return lines.withLock { $0 }
    }

    @Test func jsonLinesCarryTheRunsFieldsAndParse() throws {
        let output = lines(.json) { logger in
            logger.forRun(Self.context).info(
                "attempt handed back",
                metadata: ["error": "line one\nline \"two\"\t\u{1}end", "path": "C:\\tmp"])
        }
        try #require(output.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(output[0].utf8)) as? [String: String])
        #expect(object["msg"] == "attempt handed back")
        #expect(object["level"] == "info")
        // UTC, said so: a reader in another zone need not guess.
        let ts = try #require(object["ts"])
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(ts.hasSuffix("Z") && parser.date(from: ts) != nil, "\(ts)")
        #expect(object["service"] == "step-executor")
        #expect(object["run_id"] == Self.run.description)
        #expect(object["correlation_id"] == "corr \"quoted\" = yes")
        #expect(object["flow"] == "deploy")
        #expect(object["release"] == "3")
        #expect(object["step"] == "build")
        #expect(object["attempt"] == "2")
        #expect(object["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(object["error"] == "line one\nline \"two\"\t\u{1}end")
        #expect(object["path"] == "C:\\tmp")
        #expect(!output[0].contains("\n"))
    }

    @Test func logfmtLinesQuoteAndEscapeValues() throws {
        let output = lines(.logfmt) { logger in
            logger.forRun(Self.context).warning("lease lost", metadata: ["error": "a \"b\"\nc"])
        }
        try #require(output.count == 1)
        let line = output[0]
        #expect(!line.contains("\n"))
        #expect(line.contains("level=warning"))
        #expect(line.contains("msg=\"lease lost\""))
        #expect(line.contains("run_id=\(Self.run)"))
        #expect(line.contains(#"correlation_id="corr \"quoted\" = yes""#), "\(line)")
        #expect(line.contains("flow=deploy"))
        #expect(line.contains("release=3"))
        #expect(line.contains("step=build"))
        #expect(line.contains("attempt=2"))
        #expect(line.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(line.contains(#"error="a \"b\"\nc""#), "\(line)")
    }

    @Test func noCredentialReachesALineWhateverItHidesIn() {
        let callbackToken = "kcb1.e2e.eyJydW4iOiIwMTkzIn0.c2lnbmF0dXJlLXZhbHVl"
        let apiToken = "keel_0123456789abcdef_" + String(repeating: "A", count: 43)
        let secret = "s3cr3t-api-key-value"
        for format in LogFormat.allCases {
            let output = lines(format, secrets: Redaction.secretValues(in: ["KEEL_SECRET_API": secret])) {
                logger in
                logger.forRun(Self.context).info(
                    "calling with Bearer \(callbackToken) and \(secret)",
                    metadata: [
                        "error": "401 for header Authorization: Bearer \(apiToken)",
                        "env": "API_KEY=\(secret) KEEL_CALLBACK_TOKEN=\(callbackToken)",
                        "callback_token": "\(callbackToken)",
                        "url": "postgres://keel:hunter22@db/keel",
                    ])
            }
            #expect(output.count == 1)
            for line in output {
                #expect(!line.contains("kcb1."), "\(line)")
                #expect(!line.contains(String(repeating: "A", count: 43)), "\(line)")
                #expect(!line.contains(secret), "\(line)")
                #expect(!line.contains("hunter22"), "\(line)")
                #expect(line.contains(Redaction.mask))
                // What identifies the token stays: its public id.
                #expect(line.contains("keel_0123456789abcdef_"), "\(line)")
                #expect(line.contains(Self.run.description))
            }
        }
    }

    @Test func secretValuesComeFromTheSecretSettingsOnly() {
        let values = Redaction.secretValues(in: [
            "KEEL_SECRET_GPU_KEY": "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----",
            "KEEL_SECRET_PIN": "1234", "KEEL_DATABASE_POOL_SIZE": "123456789",
        ])
        #expect(values.contains("AAAAB3NzaC1yc2EAAAADAQAB"))
        #expect(values.first?.contains("\n") == true)
        #expect(!values.contains("1234"))
        #expect(!values.contains("123456789"))
    }
}
