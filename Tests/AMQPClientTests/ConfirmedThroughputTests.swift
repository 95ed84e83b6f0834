import AMQPClient
import Foundation
import Testing

extension AMQPBrokerTests {
    /// 10,000 confirmed persistent publishes from concurrent tasks arrive exactly once, unchanged, and
    /// the consumer never holds more unacknowledged deliveries than the prefetch.
    @Test func tenThousandConfirmedPublishesAreConsumedExactlyOnce() async throws {
        let count = 10_000
        let prefetch = 50
        let connection = try await AMQPTest.connect()
        let publisher = try await connection.openChannel()
        let queue = AMQPTest.name("exactly-once")
        try await publisher.declareQueue(queue, durable: true)
        try await publisher.enablePublisherConfirms()

        let consumerChannel = try await connection.openChannel()
        try await consumerChannel.setPrefetch(UInt16(prefetch))
        let consumer = try await consumerChannel.consume(queue: queue)

        let received = Task { () throws -> (deliveries: [AMQPDelivery], maxHeld: Int) in
            var deliveries: [AMQPDelivery] = []
            var held: [AMQPDelivery] = []
            var maxHeld = 0
            for try await delivery in consumer {
                deliveries.append(delivery)
                held.append(delivery)
                maxHeld = max(maxHeld, held.count)
                // Acknowledge only when holding a full prefetch: a client buffering past the prefetch
                // would show up as held.count > prefetch.
                if held.count == prefetch || deliveries.count == count {
                    try await consumerChannel.ack(delivery, multiple: true)
                    held.removeAll()
                }
                if deliveries.count == count { break }
            }
            return (deliveries, maxHeld)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = 100
            for worker in 0..<workers {
                group.addTask {
                    for index in stride(from: worker, to: count, by: workers) {
                        try await publisher.publish(
                            AMQPTest.bytes("message \(index)"), exchange: "", routingKey: queue,
                            properties: Self.properties(index))
                    }
                }
            }
            try await group.waitForAll()
        }

        let (deliveries, maxHeld) = try await received.value
        #expect(maxHeld <= prefetch)
        #expect(deliveries.count == count)
        var seen = Set<Int>()
        for delivery in deliveries {
            let index = try #require(delivery.properties.headers["index"]?.intValue)
            #expect(seen.insert(index).inserted, "message \(index) delivered twice")
            #expect(delivery.body == AMQPTest.bytes("message \(index)"))
            #expect(delivery.properties == Self.properties(index))
            #expect(delivery.routingKey == queue)
            #expect(!delivery.redelivered)
        }
        #expect(seen == Set(0..<count))
        #expect(try await consumerChannel.get(queue: queue) == nil)
        try await publisher.deleteQueue(queue)
        await connection.close()
    }

    private static func properties(_ index: Int) -> AMQPProperties {
        AMQPProperties(
            contentType: "text/plain",
            headers: [
                "index": .int64(Int64(index)), "source": "test", "tags": ["a", .int32(Int32(index % 7))],
            ],
            deliveryMode: .persistent, messageID: "message-\(index)")
    }
}
