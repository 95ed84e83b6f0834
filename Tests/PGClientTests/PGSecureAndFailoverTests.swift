import Foundation
import KeelTestSupport
import PGClient
import Testing

extension PGClientTests {
    /// `sslmode=verify-full` and several hosts with `target_session_attrs=read-write`, as
    /// docs/configuration.md documents them, against the test server (TLS certificate from
    /// scripts/servers/tls.sh, naming `localhost` only).
    @Suite struct SecureAndFailover {
        static var tls: String { (try? TestEnvironment.require("KEEL_TLS_DIR")) ?? ".keel/tls" }

        /// The test server's URL with `host` and extra query items.
        static func url(host: String = "127.0.0.1", port: Int? = nil, hosts: String? = nil, _ query: String)
            throws -> String
        {
            let base = try TestEnvironment.require("KEEL_DATABASE_URL")
            var components = try #require(URLComponents(string: base))
            let serverPort = components.port ?? 5432
            components.host = host
            components.port = port ?? serverPort
            var url = try #require(components.string)
            if let hosts {
                // host1:port1,host2:port2 in place of the authority's host and port.
                url = url.replacingOccurrences(of: "@\(host):\(port ?? serverPort)", with: "@\(hosts)")
            }
            return url + (url.contains("?") ? "&" : "?") + query
        }

        static func connect(_ url: String) async throws -> PGConnection {
            var configuration = try PGConfiguration(url: url)
            configuration.connectTimeout = .seconds(10)
            return try await PGConnection.connect(configuration, logger: PGTest.logger)
        }

        @Test func verifyFullConnectsOverTLSToTheNamedHost() async throws {
            let connection = try await Self.connect(
                try Self.url(host: "localhost", "sslmode=verify-full&sslrootcert=\(Self.tls)/ca.pem"))
            let encrypted = try await connection.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0].decode((Bool).self)
            await connection.close()
            #expect(encrypted)
        }

        @Test(arguments: [
            // The certificate names localhost, not 127.0.0.1.
            ("127.0.0.1", "ca.pem"),
            // A certificate from an authority we do not trust.
            ("localhost", "other-ca.pem"),
        ])
        func verifyFullRefusesAServerItCannotVerify(_ host: String, _ authority: String) async throws {
            let url = try Self.url(host: host, "sslmode=verify-full&sslrootcert=\(Self.tls)/\(authority)")
            let error = await #expect(throws: PGError.self) { try await Self.connect(url) }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("keel:keel") == false)
        }

        @Test func severalHostsSkipOneThatIsDownAndOneThatIsReadOnly() async throws {
            let dead = TestHTTP.freePort()
            let port = try #require(
                URLComponents(string: try TestEnvironment.require("KEEL_DATABASE_URL"))?.port)
            let url = try Self.url(
                hosts: "127.0.0.1:\(dead),127.0.0.1:\(port)", "target_session_attrs=read-write")
            let connection = try await Self.connect(url)
            #expect(try await connection.query("SELECT 1").count == 1)
            await connection.close()

            // A server that reports itself read-only (a standby does; here a role whose sessions are
            // read-only) is not the primary read-write asks for.
            let role = PGTest.uniqueName("readonly")
            try await PGTest.withConnection { admin in
                try await admin.executeScript(
                    "CREATE ROLE \(role) LOGIN PASSWORD 'readonly'; ALTER ROLE \(role) SET default_transaction_read_only = on"
                )
            }
            do {
                var components = try #require(
                    URLComponents(string: try Self.url("target_session_attrs=read-write")))
                components.user = role
                components.password = "readonly"
                let error = await #expect(throws: PGError.self) {
                    try await Self.connect(components.string ?? "")
                }
                #expect(error?.code == .connectionFailed)
                #expect(error?.message.contains("read-only") == true, "\(String(describing: error))")
            } catch {
                try? await PGTest.withConnection { try await $0.executeScript("DROP ROLE \(role)") }
                throw error
            }
            try await PGTest.withConnection { try await $0.executeScript("DROP ROLE \(role)") }
        }
    }
}
