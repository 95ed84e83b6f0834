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
        do {
            _ = try AMQPConfiguration(url: "amqps://keel:hunter2@h/keel")
            Issue.record("amqps should be refused")
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
