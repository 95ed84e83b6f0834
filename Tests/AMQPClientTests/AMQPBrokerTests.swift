import AMQPClient
import Foundation
import KeelTestSupport
import Testing

/// Every test that talks to the broker, in one serialized suite: the recovery test restarts the broker,
/// which must not break tests running beside it. The tests live in extensions, one file per topic.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AMQPBrokerTests {
    @Test func wrongPasswordFailsWithoutLeakingIt() async throws {
        do {
            _ = try await AMQPTest.connect { $0.password = "not-the-password-xyz" }
            Issue.record("login with a wrong password succeeded")
        } catch let error as AMQPError {
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("not-the-password-xyz"))
        }
    }

    @Test func declaresBindsPurgesAndDeletes() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let exchange = AMQPTest.name("topic")
        let queue = AMQPTest.name("declare")
        try await channel.declareExchange(exchange, type: .topic, durable: false)
        let info = try await channel.declareQueue(queue, durable: false, autoDelete: true)
        #expect(info.name == queue)
        #expect(info.messageCount == 0)
        try await channel.bindQueue(queue, exchange: exchange, routingKey: "jobs.*")
        try await channel.enablePublisherConfirms()
        try await channel.publish(AMQPTest.bytes("a"), exchange: exchange, routingKey: "jobs.one")
        try await channel.publish(AMQPTest.bytes("b"), exchange: exchange, routingKey: "other.one")
        #expect(
            try await channel.declareQueue(queue, durable: false, autoDelete: true).messageCount == 1)
        try await channel.purgeQueue(queue)
        #expect(try await channel.get(queue: queue) == nil)
        let serverNamed = try await channel.declareQueue("", durable: false, exclusive: true)
        #expect(serverNamed.name.hasPrefix("amq.gen-"))
        try await channel.deleteQueue(queue)
        try await channel.close()
        await connection.close()
    }

    @Test func brokerChannelErrorClosesOnlyThatChannel() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("mismatch")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        do {
            try await channel.declareQueue(queue, durable: true)
            Issue.record("re-declaring with other settings succeeded")
        } catch let error as AMQPError {
            guard case .channelClosed(let code, let text) = error.code else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(code == 406)
            #expect(text.contains("PRECONDITION_FAILED"))
        }
        await #expect(throws: AMQPError.self) { try await channel.purgeQueue(queue) }
        let other = try await connection.openChannel()
        #expect(try await other.get(queue: queue) == nil)
        await connection.close()
    }
}

extension AMQPBrokerTests {
    /// Cancelling the task that iterates a consumer cancels the consumer on the broker, and its
    /// unacknowledged delivery goes back to the queue once the channel closes.
    @Test func cancellingTheConsumingTaskCancelsTheConsumer() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("cancel")
        try await channel.declareQueue(queue, durable: false, autoDelete: false)
        try await channel.enablePublisherConfirms()
        try await channel.publish(AMQPTest.bytes("held"), exchange: "", routingKey: queue)
        let consumer = try await channel.consume(queue: queue)
        let received = Locked(0)
        let task = Task {
            for try await _ in consumer { received.withLock { $0 += 1 } }
        }
        #expect(await eventually { received.withLock { $0 } == 1 })
        #expect(try await channel.declareQueue(queue, durable: false).consumerCount == 1)
        task.cancel()
        let cancelled = try await eventually {
            try await channel.declareQueue(queue, durable: false).consumerCount == 0
        }
        #expect(cancelled)
        try await channel.close()
        let other = try await connection.openChannel()
        let requeued = try #require(try await other.get(queue: queue))
        #expect(requeued.redelivered)
        #expect(requeued.body == AMQPTest.bytes("held"))
        try await other.deleteQueue(queue)
        await connection.close()
    }
}
