import AMQPClient
import Foundation
import KeelBus
import KeelTestSupport
import Logging
import Synchronization
import Testing

/// A consumer says it is consuming only while its queue exists and deliveries reach it: what a service's
/// readiness waits for, so nothing is published to an exchange before the queue that keeps it is bound.
@Suite struct DeliveryConsumerReadinessTests {
    struct Unreachable: Error {}

    @Test func aConsumerThatCannotReachTheBrokerIsNotConsuming() async throws {
        let attempts = Mutex(0)
        let consumer = DeliveryConsumer(
            name: "unreachable consumer",
            declaration: KeelDeclaration(exchanges: [], queues: [], bindings: []), queues: ["nowhere"],
            prefetch: 1,
            connection: {
                attempts.withLock { $0 += 1 }
                throw Unreachable()
            }, logger: Logger(label: "test")
        ) { _ in .ack }
        let running = Task { try await consumer.run() }
        try await waitUntil("the consumer to try twice") { attempts.withLock { $0 } >= 2 }
        #expect(!consumer.isConsuming)
        running.cancel()
        _ = await running.result
    }

    @Test func aConsumerIsConsumingOnceItsQueueIsBoundAndNoLongerAfterItStops() async throws {
        try await withBus { _, connection in
            let tag = "t\(UInt32.random(in: 0...UInt32.max))"
            let queue = KeelQueue(name: "keel.test.ready.\(tag)")
            let handled = Mutex<[String]>([])
            let consumer = DeliveryConsumer(
                name: "ready consumer",
                declaration: KeelDeclaration(
                    exchanges: [KeelTopology.events, KeelTopology.deadLetters], queues: [queue],
                    bindings: [
                        KeelBinding(
                            queue: queue.name, exchange: KeelTopology.events.name, routingKey: "\(tag).#")
                    ]),
                queues: [queue.name], prefetch: 4, connection: { connection }, logger: Logger(label: "test")
            ) { delivery in
                handled.withLock { $0.append(String(decoding: delivery.body, as: UTF8.self)) }
                return .ack
            }
            #expect(!consumer.isConsuming, "consuming before it ran")
            let running = Task { try await consumer.run() }
            try await waitUntil("the consumer to consume") { consumer.isConsuming }

            // What is published once it says so reaches it: the queue and its binding exist.
            let channel = try await connection.openChannel()
            try await channel.enablePublisherConfirms()
            try await channel.publish(
                Array("after".utf8), exchange: KeelTopology.events.name, routingKey: "\(tag).ready",
                mandatory: true)
            try await waitUntil("the delivery to be handled") { handled.withLock { $0 } == ["after"] }

            running.cancel()
            _ = await running.result
            #expect(!consumer.isConsuming, "still consuming after it stopped")
            try await channel.deleteQueue(queue.name)
            try await channel.deleteQueue(queue.deadLetterQueue)
            try await channel.close()
        }
    }
}
