import Foundation
import SSHClient
import Testing

extension SSHServerTests {
    /// Every refusal must happen before authentication: the tests use the accepted key, so a refusal
    /// cannot come from a failed login, and again a key file that does not exist, which would fail with
    /// identityUnusable had authentication been attempted.
    @Suite("Host key verification")
    struct HostKeys {
        static let missingKey = SSHIdentity.privateKeyFile(path: "/nonexistent/keel-test-key")

        /// The known_hosts lines of the test sshd as (host field, key type, base64 key).
        static func knownHostEntries() throws -> [(name: String, type: String, key: String)] {
            let text = try String(contentsOfFile: try TestSSH.knownHostsPath, encoding: .utf8)
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ").map(String.init)
                return fields.count >= 3 ? (fields[0], fields[1], fields[2]) : nil
            }
        }

        @Test("the known_hosts file of the test sshd is accepted")
        func knownHostsMatch() async throws {
            try await TestSSH.withSession { session async throws in
                #expect(try await session.execute("true").exitStatus == 0)
            }
        }

        @Test("a known_hosts file with only the ECDSA key makes the server present that key")
        func knownHostsOnlyECDSA() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let knownHosts = directory.appendingPathComponent("known_hosts").path
            let lines = try Self.knownHostEntries().filter { $0.type.hasPrefix("ecdsa") }
            try #require(lines.count == 1)
            try lines.map { "\($0.name) \($0.type) \($0.key)\n" }.joined()
                .write(toFile: knownHosts, atomically: true, encoding: .utf8)
            let configuration = try TestSSH.configuration(hostKey: .knownHosts(path: knownHosts))
            try await TestSSH.withSession(configuration) { session async throws in
                #expect(try await session.execute("echo ecdsa").stdoutText == "ecdsa\n")
            }
        }

        @Test("hashed known_hosts entries (ssh-keygen -H) are understood")
        func knownHostsHashed() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let knownHosts = directory.appendingPathComponent("known_hosts").path
            try FileManager.default.copyItem(atPath: try TestSSH.knownHostsPath, toPath: knownHosts)
            try TestSSH.runLocal("/usr/bin/ssh-keygen", ["-q", "-H", "-f", knownHosts])
            let hashed = try String(contentsOfFile: knownHosts, encoding: .utf8)
            #expect(hashed.hasPrefix("|1|"))
            #expect(!hashed.contains(try TestSSH.host))
            let configuration = try TestSSH.configuration(hostKey: .knownHosts(path: knownHosts))
            try await TestSSH.withSession(configuration) { session async throws in
                #expect(try await session.execute("echo hashed").stdoutText == "hashed\n")
            }
        }

        @Test("another key for the host in known_hosts is a mismatch")
        func knownHostsMismatch() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let other = try TestSSH.generateKey(in: directory)
            let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(
                separator: " ")
            let name = try #require(try Self.knownHostEntries().first?.name)
            let knownHosts = directory.appendingPathComponent("known_hosts").path
            try "\(name) \(otherKey[0]) \(otherKey[1])\n".write(
                toFile: knownHosts, atomically: true, encoding: .utf8)

            for identity in [try SSHIdentity.privateKeyFile(path: TestSSH.keyPath), Self.missingKey] {
                let error = try await TestSSH.sshError {
                    let configuration = try TestSSH.configuration(
                        identity: identity, hostKey: .knownHosts(path: knownHosts))
                    _ = try await SSHSession.connect(configuration, logger: TestSSH.logger)
                }
                #expect(error.code == .hostKeyMismatch)
                #expect(error.description.contains("SHA256:"))
            }
        }

        @Test("an empty known_hosts file means the host is unknown")
        func knownHostsEmpty() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let knownHosts = directory.appendingPathComponent("known_hosts").path
            try "".write(toFile: knownHosts, atomically: true, encoding: .utf8)
            for identity in [try SSHIdentity.privateKeyFile(path: TestSSH.keyPath), Self.missingKey] {
                let error = try await TestSSH.sshError {
                    let configuration = try TestSSH.configuration(
                        identity: identity, hostKey: .knownHosts(path: knownHosts))
                    _ = try await SSHSession.connect(configuration, logger: TestSSH.logger)
                }
                #expect(error.code == .hostKeyUnknown)
            }
        }

        @Test("a known_hosts entry for the host on another port does not count")
        func knownHostsOtherPort() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let knownHosts = directory.appendingPathComponent("known_hosts").path
            let lines = try Self.knownHostEntries().map {
                "[\(try TestSSH.host)]:2 \($0.type) \($0.key)\n"
            }
            try lines.joined().write(toFile: knownHosts, atomically: true, encoding: .utf8)
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(
                    try TestSSH.configuration(hostKey: .knownHosts(path: knownHosts)), logger: TestSSH.logger)
            }
            #expect(error.code == .hostKeyUnknown)
        }

        @Test("a missing known_hosts file refuses the connection")
        func knownHostsMissing() async throws {
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(
                    try TestSSH.configuration(hostKey: .knownHosts(path: "/nonexistent/known_hosts")),
                    logger: TestSSH.logger)
            }
            #expect(error.code == .hostKeyUnknown)
        }

        @Test(
            "pinning one of the server's key lines works",
            arguments: ["ssh-ed25519", "ecdsa-sha2-nistp256"])
        func pinnedKey(type: String) async throws {
            let entry = try #require(try Self.knownHostEntries().first { $0.type == type })
            let configuration = try TestSSH.configuration(
                hostKey: .pinned("\(entry.type) \(entry.key) a comment"))
            try await TestSSH.withSession(configuration) { session async throws in
                #expect(try await session.execute("echo pinned").stdoutText == "pinned\n")
            }
        }

        @Test("pinning the fingerprint of the server's preferred (ed25519) key works")
        func pinnedFingerprint() async throws {
            let entry = try #require(try Self.knownHostEntries().first { $0.type == "ssh-ed25519" })
            let fingerprint = try Self.fingerprint(type: entry.type, key: entry.key)
            for pin in [fingerprint, fingerprint + "="] {
                try await TestSSH.withSession(try TestSSH.configuration(hostKey: .pinned(pin))) {
                    session async throws in
                    #expect(try await session.execute("echo pinned").stdoutText == "pinned\n")
                }
            }
        }

        @Test("a pinned fingerprint or key that differs is a mismatch")
        func pinnedMismatch() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let other = try TestSSH.generateKey(in: directory)
            let otherLine = try String(contentsOfFile: other + ".pub", encoding: .utf8)
            let pins = [
                "SHA256:" + String(repeating: "A", count: 43),
                otherLine,
                try Self.fingerprint(type: "ssh-ed25519", key: String(otherLine.split(separator: " ")[1])),
            ]
            for pin in pins {
                for identity in [try SSHIdentity.privateKeyFile(path: TestSSH.keyPath), Self.missingKey] {
                    let error = try await TestSSH.sshError {
                        _ = try await SSHSession.connect(
                            try TestSSH.configuration(identity: identity, hostKey: .pinned(pin)),
                            logger: TestSSH.logger)
                    }
                    #expect(error.code == .hostKeyMismatch, "pin \(pin)")
                }
            }
        }

        @Test("a pin that is neither a key nor a fingerprint is an invalid argument")
        func pinnedGarbage() async throws {
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(
                    try TestSSH.configuration(hostKey: .pinned("not a key")), logger: TestSSH.logger)
            }
            #expect(error.code == .invalidArgument)
        }

        /// `ssh-keygen -lf` of one key: the reference implementation of the fingerprint.
        static func fingerprint(type: String, key: String) throws -> String {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("key.pub").path
            try "\(type) \(key)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let output = try TestSSH.runLocal("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", file])
            return try #require(
                output.split(separator: " ").map(String.init).first { $0.hasPrefix("SHA256:") })
        }
    }
}
