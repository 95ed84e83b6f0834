import AMQPClient
import Foundation
import KeelTestSupport
import Testing

extension AMQPBrokerTests {
    /// A quiet connection stays alive past three heartbeat intervals: the I/O thread keeps sending
    /// heartbeats while nothing else happens. Recovery is off, so a dropped connection would fail the call.
    @Test func idleConnectionSurvivesOnHeartbeats() async throws {
        let logs = LogCapture()
        let connection = try await AMQPTest.connect(logs: logs) {
            $0.heartbeat = .seconds(2)
            $0.recovery.isEnabled = false
        }
        let channel = try await connection.openChannel()
        try await Task.sleep(for: .seconds(8))
        let queue = AMQPTest.name("heartbeat")
        do {
            try await channel.declareQueue(queue, durable: false, autoDelete: true)
        } catch {
            Issue.record("the idle connection died: \(error); log: \(logs.all)")
            throw error
        }
        try await channel.publish(AMQPTest.bytes("still here"), exchange: "", routingKey: queue)
        let delivered = try await eventually { try await channel.get(queue: queue) != nil }
        #expect(delivered)
        #expect(!logs.contains("connection lost"))
        await connection.close()
    }
}

extension AMQPBrokerTests {
    /// Restarts the shared broker, so `scripts/test` runs it apart from every other suite (its name is
    /// what the script matches).
    @Suite struct BrokerRestart {
        /// The broker restarts while a confirming publisher and a consumer run: every confirmed message reaches
        /// the consumer (duplicates allowed), and channel and consumer objects recover on their own.
        @Test func everyConfirmedMessageSurvivesABrokerRestart() async throws {
            let logs = LogCapture()
            let connection = try await AMQPTest.connect(logs: logs)
            let publisher = try await connection.openChannel()
            let queue = AMQPTest.name("restart")
            try await publisher.declareQueue(queue, durable: true)
            try await publisher.enablePublisherConfirms()
            let consumerChannel = try await connection.openChannel()
            try await consumerChannel.setPrefetch(20)
            let consumer = try await consumerChannel.consume(queue: queue)

            let confirmed = Locked(Set<Int>())
            let received = Locked([Int: Int]())  // index → times delivered
            let restarted = Locked(false)
            let publishFailures = Locked(0)
            let publishersDone = Locked(0)

            let consumerEnded = Locked<String?>(nil)
            let consuming = Task {
                do {
                    for try await delivery in consumer {
                        guard let index = delivery.properties.headers["index"]?.intValue else { continue }
                        received.withLock { $0[index, default: 0] += 1 }
                        try await consumerChannel.ack(delivery)
                    }
                    consumerEnded.withLock { $0 = "finished" }
                } catch {
                    consumerEnded.withLock { $0 = "\(error)" }
                }
            }
            let publishing = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            var index = worker
                            var afterRestart = 0
                            while afterRestart < 300 {
                                do {
                                    try await publisher.publish(
                                        AMQPTest.bytes("\(index)"), exchange: "", routingKey: queue,
                                        properties: .init(headers: ["index": .int64(Int64(index))]))
                                    confirmed.withLock { _ = $0.insert(index) }
                                    index += 4
                                    if restarted.withLock({ $0 }) { afterRestart += 1 }
                                    // Paced (about 1,000 messages/s in all) so a slow restart does not pile up
                                    // tens of thousands of messages for the broker to recover.
                                    try await Task.sleep(for: .milliseconds(4))
                                } catch let error as AMQPError where error.code == .connectionClosed {
                                    // Unconfirmed: the broker may or may not have it; publish it again.
                                    publishFailures.withLock { $0 += 1 }
                                }
                            }
                            publishersDone.withLock { $0 += 1 }
                        }
                    }
                    try await group.waitForAll()
                }
            }

            #expect(await eventually { confirmed.withLock { $0.count } >= 200 })
            try await TestEnvironment.runScript("scripts/servers/rabbitmq.sh", "restart")
            restarted.withLock { $0 = true }
            let published = await eventually(within: .seconds(90)) {
                publishersDone.withLock { $0 } == 4
            }
            guard published else {
                publishing.cancel()
                consuming.cancel()
                let relevant = logs.all.filter { !$0.contains("established") }
                Issue.record(
                    "publishers did not finish after the restart; consumer: \(consumerEnded.withLock { $0 } ?? "running"); log: \(relevant.suffix(40))"
                )
                return
            }
            try await publishing.value

            let all = confirmed.withLock { $0 }
            let complete = await eventually(within: .seconds(60)) {
                received.withLock { counts in all.allSatisfy { counts[$0] != nil } }
            }
            consuming.cancel()
            let counts = received.withLock { $0 }
            let missing = all.filter { counts[$0] == nil }
            let duplicates = counts.values.reduce(0) { $0 + max(0, $1 - 1) }
            #expect(
                complete,
                "\(missing.count) confirmed messages never arrived, e.g. \(missing.sorted().prefix(10))")
            #expect(logs.contains("AMQP connection recovered"))
            print(
                "restart test: \(all.count) confirmed, \(duplicates) duplicates, \(publishFailures.withLock { $0 }) publishes retried"
            )
            try await publisher.deleteQueue(queue)
            await connection.close()
        }
    }
}
