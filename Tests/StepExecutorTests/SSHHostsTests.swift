import Foundation
import KeelCore
import SSHClient
import Testing

@testable import step_executor

@Suite("KEEL_SSH_HOSTS")
struct SSHHostsTests {
    @Test("inline JSON and a file declare hosts; port defaults to 22")
    func reads() throws {
        let json = """
            {"gpu-1": {"address": "10.0.0.5", "user": "keel", "key_secret": "GPU_KEY",
                       "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"},
             "build": {"address": "build.internal", "port": 2200, "user": "ci", "key_file": "/etc/keel/id",
                       "key_passphrase_secret": "BUILD_PASS", "known_hosts": "/etc/keel/known_hosts"}}
            """
        let inline = try SSHHosts(reader: .of(["KEEL_SSH_HOSTS": json]))
        #expect(inline.names == ["build", "gpu-1"])
        let gpu = try inline.host(named: "gpu-1")
        #expect(gpu.port == 22 && gpu.user == "keel" && gpu.key == .secret("GPU_KEY"))
        #expect(
            gpu.hostKey
                == .pinned("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
        )
        let build = try inline.host(named: "build")
        #expect(
            build.port == 2200 && build.key == .file("/etc/keel/id") && build.passphraseSecret == "BUILD_PASS"
        )
        #expect(build.hostKey == .knownHosts(path: "/etc/keel/known_hosts"))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hosts-\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SSHHosts(reader: .of(["KEEL_SSH_HOSTS": path])).names == ["build", "gpu-1"])
        #expect(try SSHHosts(reader: .of([:])).names.isEmpty)
    }

    @Test(
        "errors name the host and the field",
        arguments: [
            (
                #"{"a": {"user": "u", "key_secret": "K", "host_key": "ssh-ed25519 AAAA"}}"#,
                "host 'a': address: required"
            ),
            (#"{"a": {"address": "h", "key_secret": "K", "host_key": "x"}}"#, "host 'a': user: required"),
            (#"{"a": {"address": "h", "user": "u", "host_key": "x"}}"#, "host 'a': key_secret: required"),
            (#"{"a": {"address": "h", "user": "u", "key_secret": "K"}}"#, "host 'a': host_key: required"),
            (
                #"{"a": {"address": "h", "user": "u", "key_secret": "K", "key_file": "/k", "host_key": "x"}}"#,
                "not both"
            ),
            (
                #"{"a": {"address": "h", "user": "u", "key_secret": "K", "host_key": "x", "port": 70000}}"#,
                "host 'a': port"
            ),
            (
                #"{"a": {"address": "h", "user": "u", "key_secret": "K", "host_key": "x", "pasword": "p"}}"#,
                "host 'a': pasword: unknown field"
            ),
            (
                #"{"a": {"address": "", "user": "u", "key_secret": "K", "host_key": "x"}}"#,
                "address: expected a non-empty string"
            ),
            (#"["a"]"#, "expected an object mapping"),
            (#"{"a": "h"}"#, "host 'a': expected an object"),
            ("{not json", "not valid JSON"),
        ])
    func errors(json: String, expected: String) {
        do {
            _ = try SSHHosts(reader: .of(["KEEL_SSH_HOSTS": json]))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.hasPrefix("KEEL_SSH_HOSTS"))
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("a missing file is named")
    func missingFile() {
        #expect(throws: SSHHostsError.self) {
            try SSHHosts(reader: .of(["KEEL_SSH_HOSTS": "/nonexistent/hosts.json"]))
        }
    }

    @Test("job files are named by the idempotency key, made safe for a path")
    func jobFiles() {
        let files = SSHJobFiles(idempotencyKey: "0193:bench/../x:2")
        #expect(files.pidFile == ".keel/jobs/0193_bench_.._x_2.pid")
        #expect(files.logFile == ".keel/jobs/0193_bench_.._x_2.log")
        #expect(SSHJobFiles(idempotencyKey: "..").pidFile == ".keel/jobs/_...pid")
    }

    @Test("callback settings: none, complete, or an error naming the setting")
    func callbackSettings() throws {
        #expect(try CallbackSettings.from(reader: .of([:])) == nil)
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let settings = try #require(
            try CallbackSettings.from(
                reader: .of([
                    "KEEL_CALLBACK_KEYS": "k1:\(key)",
                    "KEEL_CALLBACK_GATEWAY_URL": "https://keel.example/cb/",
                ])))
        #expect(settings.callbackURL == "https://keel.example/cb/v1/callbacks")
        #expect(settings.keys.signingKeyID == "k1")
        #expect(throws: CallbackSettingsError.self) {
            try CallbackSettings.from(reader: .of(["KEEL_CALLBACK_KEYS": "k1:\(key)"]))
        }
        #expect(throws: CallbackSettingsError.self) {
            try CallbackSettings.from(
                reader: .of([
                    "KEEL_CALLBACK_KEYS": "k1:\(key)", "KEEL_CALLBACK_GATEWAY_URL": "ftp://x",
                ]))
        }
    }
}
