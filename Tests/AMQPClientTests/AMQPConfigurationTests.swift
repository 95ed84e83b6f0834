import AMQPClient
import Testing

@Suite struct AMQPConfigurationTests {
    @Test func parsesAllPartsOfAnAMQPURL() throws {
        let configuration = try AMQPConfiguration(
            url: "amqp://keel:s%40cret@broker.example:5673/my%2fvhost?heartbeat=3&connection_name=intake")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5673)
        #expect(configuration.user == "keel")
        #expect(configuration.password == "s@cret")
        #expect(configuration.vhost == "my/vhost")
        #expect(configuration.heartbeat == .seconds(3))
        #expect(configuration.connectionName == "intake")
    }

    @Test func defaultsMatchRabbitMQsURISpec() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        #expect(configuration.port == 5672)
        #expect(configuration.vhost == "/")
        #expect(configuration.user == "guest")
        #expect(configuration.heartbeat == .seconds(10))
        #expect(try AMQPConfiguration(url: "amqp://h/%2f").vhost == "/")
    }

    @Test func descriptionAndErrorsNeverShowThePassword() throws {
        let configuration = try AMQPConfiguration(url: "amqp://keel:hunter2@h:5672/keel")
        #expect(!configuration.description.contains("hunter2"))
        #expect(configuration.description == "amqp://keel@h:5672/keel")
        #expect(!(try AMQPConfiguration(url: "amqps://keel:hunter2@h/keel")).description.contains("hunter2"))
        do {
            _ = try AMQPConfiguration(url: "http://keel:hunter2@h/keel")
            Issue.record("http should be refused")
        } catch let error as AMQPError {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.description.contains("hunter2"))
        }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://h/?heartbeat=abc") }
    }

    @Test func fieldValueLiteralsPickRabbitMQsCommonTypes() {
        let table: AMQPTable = ["n": 5, "s": "x", "b": true, "d": 1.5, "a": [1, "two"], "t": ["k": 1]]
        #expect(table["n"] == .int64(5))
        #expect(table["s"] == .string("x"))
        #expect(table["b"] == .bool(true))
        #expect(table["d"] == .double(1.5))
        #expect(table["a"] == .array([.int64(1), .string("two")]))
        #expect(table["t"] == .table(["k": .int64(1)]))
    }
}

@Suite struct AMQPClusterConfigurationTests {
    @Test func theNodesOfAClusterAreReadFromTheURLInOrder() throws {
        let configuration = try AMQPConfiguration(
            url: "amqp://keel:pw@rabbit-1:5672,rabbit-2:5673,[::1]/keel?heartbeat=5")
        #expect(
            configuration.servers == [
                AMQPHost(host: "rabbit-1", port: 5672), AMQPHost(host: "rabbit-2", port: 5673),
                AMQPHost(host: "::1", port: 5672),
            ])
        #expect(configuration.vhost == "keel" && configuration.password == "pw")
        #expect(configuration.description == "amqp://keel@rabbit-1:5672,rabbit-2:5673,::1:5672/keel")
    }

    @Test func aBadNodeInTheListIsRefused() {
        for url in ["amqp://keel@a,b:0/keel", "amqp://keel@a,:5672/keel", "amqp://keel@a,b:port/keel"] {
            #expect(throws: AMQPError.self, "\(url)") { try AMQPConfiguration(url: url) }
        }
    }
}

extension AMQPBrokerTests {
    /// A first node nobody listens on, then the real broker: the connection moves on to it and works.
    @Test func aDeadFirstNodeFallsThroughToTheNextOne() async throws {
        let real = try AMQPTest.configuration()
        let connection = try await AMQPTest.connect { configuration in
            configuration.host = "127.0.0.1"
            configuration.port = 1
            configuration.fallbackHosts = [AMQPHost(host: real.host, port: real.port)]
        }
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("fallback")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        try await channel.enablePublisherConfirms()
        try await channel.publish(AMQPTest.bytes("via the second node"), exchange: "", routingKey: queue)
        let delivery = try #require(try await channel.get(queue: queue))
        #expect(delivery.body == AMQPTest.bytes("via the second node"))
        try await channel.ack(delivery)
        await connection.close()
    }
}

@Suite("amqps URLs")
struct AMQPSURLTests {
    @Test("amqps:// means TLS on port 5671, verifying the broker unless verify=verify_none")
    func parsing() throws {
        let plain = try AMQPConfiguration(url: "amqp://u:p@h/v")
        #expect(plain.tls == nil && plain.port == 5672)
        let secure = try AMQPConfiguration(
            url: "amqps://u:p@h1,h2:5999/v?cacertfile=/ca.pem&certfile=/c.pem&keyfile=/c.key")
        #expect(secure.port == 5671)
        #expect(secure.fallbackHosts.map(\.port) == [5999])
        #expect(
            secure.tls == AMQPTLS(caCertificatePath: "/ca.pem", certificatePath: "/c.pem", keyPath: "/c.key"))
        #expect(secure.description == "amqps://u@h1:5671,h2:5999/v")
        let unverified = try AMQPConfiguration(url: "amqps://u:p@h/v?verify=verify_none")
        #expect(unverified.tls?.verifyPeer == false && unverified.tls?.verifyHostname == false)
    }

    @Test(
        "TLS settings on a plain URL, or an unknown verify mode, are refused",
        arguments: ["amqp://u:p@h/v?cacertfile=/ca.pem", "amqps://u:p@h/v?verify=maybe", "amqpx://u:p@h/v"])
    func refused(_ url: String) {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
    }
}
