import AMQPClient
import Foundation
import KeelTestSupport
import Logging
import Testing

/// `amqps://` against the test broker's TLS listener (scripts/servers/rabbitmq.sh, certificates from
/// scripts/servers/tls.sh): a verified connection carries messages; a broker certificate from another
/// authority, or one that does not name the host, is refused before the password is sent; a client
/// certificate is presented when given, and the broker refuses one it cannot verify.
@Suite("AMQP over TLS")
struct AMQPTLSTests {
    static var tls: String { (try? TestEnvironment.require("KEEL_TLS_DIR")) ?? ".keel/tls" }

    /// The broker's certificate names `localhost` only.
    static func url(host: String = "localhost", _ query: String) throws -> String {
        let port = try TestEnvironment.require("KEEL_AMQPS_PORT")
        return "amqps://keel:keel@\(host):\(port)/keel?\(query)"
    }

    static func connect(_ url: String) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: url)
        configuration.recovery.isEnabled = false
        configuration.connectTimeout = .seconds(10)
        return try await AMQPConnection.connect(configuration, logger: Logger(label: "test"))
    }

    @Test("a connection that verifies the broker's certificate carries a message both ways")
    func verifiedRoundTrip() async throws {
        for query in [
            "cacertfile=\(Self.tls)/ca.pem",
            "cacertfile=\(Self.tls)/ca.pem&certfile=\(Self.tls)/client.pem&keyfile=\(Self.tls)/client.key",
        ] {
            let connection = try await Self.connect(try Self.url(query))
            do {
                let channel = try await connection.openChannel()
                let queue = AMQPTest.name("tls")
                _ = try await channel.declareQueue(queue, durable: false, exclusive: true)
                try await channel.enablePublisherConfirms()
                try await channel.publish(AMQPTest.bytes("over tls"), exchange: "", routingKey: queue)
                let delivery = try #require(try await channel.get(queue: queue))
                #expect(String(decoding: delivery.body, as: UTF8.self) == "over tls")
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    @Test(
        "a broker that cannot be verified is refused",
        arguments: [
            // A certificate from an authority we do not trust.
            ("localhost", "cacertfile=\(tls)/other-ca.pem", "peer cert verification failed"),
            // Our authority, but the certificate names localhost, not 127.0.0.1.
            ("127.0.0.1", "cacertfile=\(tls)/ca.pem", "hostname verification failed"),
            // A client certificate the broker cannot verify (self-signed by another authority).
            (
                "localhost",
                "cacertfile=\(tls)/ca.pem&certfile=\(tls)/other-ca.pem&keyfile=\(tls)/other-ca.key",
                "SSL"
            ),
        ])
    func refused(_ host: String, _ query: String, _ reason: String) async throws {
        let url = try Self.url(host: host, query)
        let error = await #expect(throws: AMQPError.self) { try await Self.connect(url) }
        #expect(error?.code == .connectionFailed, "\(String(describing: error))")
        #expect(error?.reason?.contains(reason) == true, "\(String(describing: error))")
        #expect(!"\(String(describing: error))".contains("keel:keel"), "the password leaked into the error")
    }

    @Test("a certificate file that cannot be read is a configuration error naming it")
    func missingFiles() async throws {
        let error = await #expect(throws: AMQPError.self) {
            try await Self.connect(try Self.url("cacertfile=/nonexistent/ca.pem"))
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.operation?.contains("/nonexistent/ca.pem") == true, "\(String(describing: error))")
    }
}
