import AMQPClient
import KeelBus
import KeelTestSupport
import Logging
import Testing

/// The declared topology on the real RabbitMQ: idempotent, quorum, and every work queue dead-letters.
@Suite struct KeelTopologyTests {
    @Test func declaringTwiceIsHarmlessAndRejectedMessagesAreDeadLettered() async throws {
        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: TestEnvironment.require("KEEL_AMQP_URL")),
            logger: Logger(label: "test"))
        let channel = try await connection.openChannel()
        let pool = "test-\(UInt32.random(in: 0...UInt32.max))"
        let declaration = KeelTopology.stepExecutor(pool: pool, shards: 2)
        try await declaration.declare(on: channel)
        try await declaration.declare(on: channel)
        #expect(declaration.queues.map(\.name) == ["keel.steps.\(pool).0", "keel.steps.\(pool).1"])

        try await channel.enablePublisherConfirms()
        try await channel.publish(
            Array("poison".utf8), exchange: KeelTopology.steps.name, routingKey: "\(pool).1", mandatory: true)
        let queue = KeelTopology.stepQueue(pool: pool, shard: 1)
        var delivery: AMQPDelivery?
        for _ in 0..<100 where delivery == nil {
            delivery = try await channel.get(queue: queue.name)
            if delivery == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let received = try #require(delivery)
        try await channel.reject(received, requeue: false)

        var dead: AMQPDelivery?
        for _ in 0..<100 where dead == nil {
            dead = try await channel.get(queue: queue.deadLetterQueue)
            if dead == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let deadLetter = try #require(dead)
        #expect(String(decoding: deadLetter.body, as: UTF8.self) == "poison")
        // RabbitMQ records why it died.
        #expect(deadLetter.properties.headers["x-first-death-reason"] == .string("rejected"))
        try await channel.ack(deadLetter)
        for name in declaration.queues.flatMap({ [$0.name, $0.deadLetterQueue] }) {
            try await channel.deleteQueue(name)
        }
        try await channel.close()
        await connection.close()
    }
}
