import AMQPClient
import Foundation
import KeelBus
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// The outbox relay against the real PostgreSQL and RabbitMQ (DESIGN invariant 3).
@Suite struct OutboxRelayTests {
    func startRelay(_ pool: PGPool, _ connection: AMQPConnection) -> Task<Void, any Error> {
        let relay = OutboxRelay(
            pool: pool, connection: { connection }, batchSize: 50, pollInterval: .milliseconds(200),
            logger: Logger(label: "relay"))
        return Task { try await relay.run() }
    }

    func unsent(_ pool: PGPool) async throws -> [(routingKey: String, attempts: Int, lastError: String?)] {
        try await pool.withConnection { connection in
            try await connection.query(
                "SELECT routing_key, attempts, last_error FROM outbox WHERE sent_at IS NULL ORDER BY id"
            ).map { try $0.decode((String, Int, String?).self) }
        }
    }

    @Test func committedMessagesArePublishedOnceAndRolledBackOnesNever() async throws {
        try await withBus { pool, connection in
            let tag = "t\(UInt32.random(in: 0...UInt32.max))"
            let channel = try await connection.openChannel()
            try await KeelTopology.publishing.declare(on: channel)
            let queue = "keel.test.outbox.\(tag)"
            try await channel.declareQueue(queue, durable: false, autoDelete: true)
            try await channel.bindQueue(queue, exchange: KeelTopology.events.name, routingKey: "\(tag).#")

            let ids = (0..<120).map { _ in UUID() }
            try await pool.withTransaction { connection in
                try await OutboxStore.enqueue(
                    ids.enumerated().map { index, id in
                        OutboxMessage(
                            exchange: KeelTopology.events.name, routingKey: "\(tag).committed.\(index)",
                            messageID: id,
                            correlationID: "corr-\(index)",
                            headers: ["keel-schema": "1", "traceparent": "00-abc"],
                            body: Array(#"{"n":\#(index)}"#.utf8))
                    }, on: connection)
            }
            struct Rollback: Error {}
            await #expect(throws: Rollback.self) {
                try await pool.withTransaction { connection in
                    try await OutboxStore.enqueue(
                        [
                            OutboxMessage(
                                exchange: KeelTopology.events.name, routingKey: "\(tag).rolled-back", body: []
                            )
                        ],
                        on: connection)
                    throw Rollback()
                }
            }

            let relay = startRelay(pool, connection)
            var received: [AMQPDelivery] = []
            let allArrived = try await eventually {
                received += try await drainQueue(queue, on: channel)
                return received.count >= ids.count
            }
            #expect(allArrived)
            // A little longer: nothing more (no duplicate, no rolled-back message) arrives.
            try await Task.sleep(for: .milliseconds(600))
            received += try await drainQueue(queue, on: channel)
            relay.cancel()
            _ = await relay.result

            #expect(received.count == ids.count)
            #expect(
                Set(received.compactMap(\.properties.messageID))
                    == Set(ids.map { $0.uuidString.lowercased() }))
            #expect(!received.contains { $0.routingKey.hasSuffix("rolled-back") })
            let first = try #require(received.first { $0.routingKey == "\(tag).committed.0" })
            #expect(first.properties.correlationID == "corr-0")
            #expect(first.properties.headers["keel-schema"] == .string("1"))
            #expect(first.properties.headers["traceparent"] == .string("00-abc"))
            #expect(first.properties.contentType == "application/json")
            #expect(first.properties.deliveryMode == .persistent)
            #expect(String(decoding: first.body, as: UTF8.self) == #"{"n":0}"#)
            #expect(try await unsent(pool).isEmpty)
            try await channel.close()
        }
    }

    @Test func aRefusedMessageIsKeptAndRetriedUntilTheBrokerTakesIt() async throws {
        try await withBus { pool, connection in
            let tag = "t\(UInt32.random(in: 0...UInt32.max))"
            let routingKey = "pool-\(tag).0"
            try await pool.withTransaction { connection in
                try await OutboxStore.enqueue(
                    [
                        OutboxMessage(
                            exchange: KeelTopology.steps.name, routingKey: routingKey, body: Array("{}".utf8))
                    ],
                    on: connection)
            }
            let relay = startRelay(pool, connection)
            // No queue is bound for it: the mandatory publish is returned, and the row stays.
            let refused = try await eventually { try await unsent(pool).first?.attempts ?? 0 >= 1 }
            #expect(refused)
            let row = try #require(try await unsent(pool).first)
            #expect(row.routingKey == routingKey)
            #expect(
                row.lastError?.contains("no route") == true || row.lastError?.contains("NO_ROUTE") == true,
                "\(row.lastError ?? "")")

            // Once a queue exists, the retry delivers it and the row is marked sent.
            let channel = try await connection.openChannel()
            let queue = "keel.test.refused.\(tag)"
            try await channel.declareQueue(queue, durable: false, autoDelete: true)
            try await channel.bindQueue(queue, exchange: KeelTopology.steps.name, routingKey: routingKey)
            var received: [AMQPDelivery] = []
            let delivered = try await eventually {
                received += try await drainQueue(queue, on: channel)
                return !received.isEmpty
            }
            #expect(delivered)
            #expect(try await eventually { try await unsent(pool).isEmpty })
            relay.cancel()
            _ = await relay.result
            #expect(received.count == 1)
            try await channel.close()
        }
    }

    @Test func twoRelaysNeverPublishTheSameRowTwice() async throws {
        try await withBus { pool, connection in
            let tag = "t\(UInt32.random(in: 0...UInt32.max))"
            let channel = try await connection.openChannel()
            try await KeelTopology.publishing.declare(on: channel)
            let queue = "keel.test.replicas.\(tag)"
            try await channel.declareQueue(queue, durable: false, autoDelete: true)
            try await channel.bindQueue(queue, exchange: KeelTopology.events.name, routingKey: "\(tag).#")
            let first = startRelay(pool, connection)
            let second = startRelay(pool, connection)
            let count = 400
            for batch in 0..<8 {
                try await pool.withTransaction { connection in
                    try await OutboxStore.enqueue(
                        (0..<(count / 8)).map { n in
                            OutboxMessage(
                                exchange: KeelTopology.events.name, routingKey: "\(tag).\(batch).\(n)",
                                body: [])
                        }, on: connection)
                }
            }
            var received: [AMQPDelivery] = []
            _ = try await eventually {
                received += try await drainQueue(queue, on: channel)
                return received.count >= count
            }
            try await Task.sleep(for: .milliseconds(600))
            received += try await drainQueue(queue, on: channel)
            first.cancel()
            second.cancel()
            _ = await (first.result, second.result)
            #expect(received.count == count)
            #expect(Set(received.compactMap(\.properties.messageID)).count == count)
            try await channel.close()
        }
    }
}
