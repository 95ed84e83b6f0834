import Foundation
import KeelTestSupport
import SSHClient
import Testing

extension SSHServerTests {
    @Suite("Authentication")
    struct Authentication {
        @Test("a key the server does not accept fails with authenticationFailed")
        func unacceptedKey() async throws {
            let directory = try TestSSH.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let stranger = try TestSSH.generateKey(in: directory)
            for identity in [
                SSHIdentity.privateKeyFile(path: stranger),
                .privateKey(try String(contentsOfFile: stranger, encoding: .utf8)),
            ] {
                let error = try await TestSSH.sshError {
                    _ = try await SSHSession.connect(
                        try TestSSH.configuration(identity: identity), logger: TestSSH.logger)
                }
                #expect(error.code == .authenticationFailed)
            }
        }

        @Test("a user the server does not allow fails with authenticationFailed")
        func unknownUser() async throws {
            var configuration = try TestSSH.configuration()
            configuration.user = "keel-no-such-user"
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(configuration, logger: TestSSH.logger)
            }
            #expect(error.code == .authenticationFailed)
        }

        @Test("a private key given in memory works and never shows in descriptions")
        func keyFromMemory() async throws {
            let text = try String(contentsOfFile: try TestSSH.keyPath, encoding: .utf8)
            let identity = SSHIdentity.privateKey(text)
            let configuration = try TestSSH.configuration(identity: identity)
            try await TestSSH.withSession(configuration) { session async throws in
                #expect(try await session.execute("id -un").stdoutText == "\(try TestSSH.user)\n")
            }
            let body = text.split(separator: "\n").dropFirst().first.map(String.init) ?? text
            #expect(!"\(configuration)".contains(body))
            #expect(!String(reflecting: configuration).contains(body))
            var dumped = ""
            dump(configuration, to: &dumped)
            #expect(!dumped.contains(body))
        }

        @Test("an encrypted key works with its passphrase, from a file and from memory")
        func encryptedKey() async throws {
            let path = try TestEnvironment.require("KEEL_SSH_ENCRYPTED_KEY")
            let passphrase = try TestEnvironment.require("KEEL_SSH_ENCRYPTED_KEY_PASSPHRASE")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for identity in [
                SSHIdentity.privateKeyFile(path: path, passphrase: passphrase),
                .privateKey(text, passphrase: passphrase),
            ] {
                try await TestSSH.withSession(try TestSSH.configuration(identity: identity)) {
                    session async throws in
                    #expect(try await session.execute("echo in").stdoutText == "in\n")
                }
                #expect(!"\(identity)".contains(passphrase))
            }
        }

        @Test("a wrong passphrase fails with identityUnusable and the passphrase appears nowhere")
        func wrongPassphrase() async throws {
            let path = try TestEnvironment.require("KEEL_SSH_ENCRYPTED_KEY")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let wrong = "wrong-passphrase-\(UUID().uuidString)"
            for identity in [
                SSHIdentity.privateKeyFile(path: path, passphrase: wrong),
                .privateKey(text, passphrase: wrong),
                .privateKeyFile(path: path),
            ] {
                let configuration = try TestSSH.configuration(identity: identity)
                let error = try await TestSSH.sshError {
                    _ = try await SSHSession.connect(configuration, logger: TestSSH.logger)
                }
                #expect(error.code == .identityUnusable)
                #expect(!error.description.contains(wrong))
                #expect(!"\(configuration)".contains(wrong))
            }
        }
    }
}
