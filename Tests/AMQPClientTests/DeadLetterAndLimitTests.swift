import AMQPClient
import Foundation
import KeelTestSupport
import Testing

extension AMQPBrokerTests {
    /// A dead-letter exchange and queue for one test.
    private func deadLetterTopology(_ channel: AMQPChannel, _ purpose: String) async throws -> (
        exchange: String, queue: String
    ) {
        let exchange = AMQPTest.name("\(purpose).dlx")
        let queue = AMQPTest.name("\(purpose).dlq")
        try await channel.declareExchange(exchange, type: .fanout, durable: false)
        try await channel.declareQueue(queue, durable: false, autoDelete: false)
        try await channel.bindQueue(queue, exchange: exchange, routingKey: "")
        return (exchange, queue)
    }

    private func awaitMessage(_ channel: AMQPChannel, in queue: String) async throws -> AMQPDelivery? {
        var found: AMQPDelivery?
        _ = try await eventually {
            found = try await channel.get(queue: queue)
            return found != nil
        }
        return found
    }

    private func deathReason(_ delivery: AMQPDelivery) -> String? {
        delivery.properties.headers["x-death"]?.arrayValue?.first?.tableValue?["reason"]?.stringValue
    }

    @Test func rejectedMessageFromAQuorumQueueIsDeadLettered() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let dead = try await deadLetterTopology(channel, "rejected")
        let queue = AMQPTest.name("quorum-reject")
        try await channel.declareQueue(
            queue,
            arguments: ["x-queue-type": "quorum", "x-dead-letter-exchange": .string(dead.exchange)])
        try await channel.enablePublisherConfirms()
        try await channel.publish(
            AMQPTest.bytes("bad input"), exchange: "", routingKey: queue,
            properties: .init(messageID: "poison"))
        let delivery = try #require(try await awaitMessage(channel, in: queue))
        try await channel.reject(delivery, requeue: false)

        let deadLettered = try #require(try await awaitMessage(channel, in: dead.queue))
        #expect(deadLettered.body == AMQPTest.bytes("bad input"))
        #expect(deadLettered.properties.messageID == "poison")
        #expect(deathReason(deadLettered) == "rejected")
        try await channel.ack(deadLettered)
        try await channel.deleteQueue(queue)
        try await channel.deleteQueue(dead.queue)
        await connection.close()
    }

    @Test func quorumQueueDeliveryLimitDeadLettersAfterTheLimit() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let dead = try await deadLetterTopology(channel, "limit")
        let queue = AMQPTest.name("quorum-limit")
        try await channel.declareQueue(
            queue,
            arguments: [
                "x-queue-type": "quorum", "x-delivery-limit": 2,
                "x-dead-letter-exchange": .string(dead.exchange),
            ])
        try await channel.enablePublisherConfirms()
        try await channel.publish(AMQPTest.bytes("flaky"), exchange: "", routingKey: queue)

        var attempts = 0
        var deadLettered: AMQPDelivery?
        let arrived = try await eventually {
            if let delivery = try await channel.get(queue: queue) {
                attempts += 1
                try await channel.nack(delivery, requeue: true)
            }
            deadLettered = try await channel.get(queue: dead.queue)
            return deadLettered != nil
        }
        #expect(arrived)
        #expect(attempts == 3, "delivered once plus the two allowed redeliveries")
        let message = try #require(deadLettered)
        #expect(message.body == AMQPTest.bytes("flaky"))
        #expect(deathReason(message) == "delivery_limit")
        try await channel.ack(message)
        try await channel.deleteQueue(queue)
        try await channel.deleteQueue(dead.queue)
        await connection.close()
    }

    @Test func fullQueueWithRejectPublishNacks() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("bounded")
        try await channel.declareQueue(
            queue, durable: false, autoDelete: true,
            arguments: ["x-max-length": 1, "x-overflow": "reject-publish"])
        try await channel.enablePublisherConfirms()
        try await channel.publish(AMQPTest.bytes("fits"), exchange: "", routingKey: queue)
        do {
            try await channel.publish(AMQPTest.bytes("overflows"), exchange: "", routingKey: queue)
            Issue.record("publish to a full queue was confirmed")
        } catch let error as AMQPError {
            #expect(error.code == .nacked)
            #expect(error == .nacked)
        }
        await #expect(throws: AMQPError.nacked) {
            try await channel.publish(AMQPTest.bytes("still full"), exchange: "", routingKey: queue)
        }
        // The channel stays usable after a nack.
        #expect(try await channel.get(queue: queue)?.body == AMQPTest.bytes("fits"))
        await connection.close()
    }

    @Test func mandatoryUnroutableMessageIsReturned() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        try await channel.enablePublisherConfirms()
        let queue = AMQPTest.name("routable")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        async let routed: Void = channel.publish(
            AMQPTest.bytes("ok"), exchange: "", routingKey: queue, mandatory: true)
        do {
            try await channel.publish(
                AMQPTest.bytes("lost"), exchange: "", routingKey: AMQPTest.name("nowhere"), mandatory: true)
            Issue.record("an unroutable mandatory publish succeeded")
        } catch let error as AMQPError {
            #expect(error.code == .returned(replyCode: 312, replyText: "NO_ROUTE"))
        }
        try await routed
        // Not mandatory: silently dropped, still confirmed.
        try await channel.publish(
            AMQPTest.bytes("dropped"), exchange: "", routingKey: AMQPTest.name("nowhere"))
        await connection.close()
    }
}
