import AMQPClient
import Foundation
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// A migrated database of its own and a broker connection, both real, for one test.
func withBus(_ body: (PGPool, AMQPConnection) async throws -> Void) async throws {
    try await withMigratedDatabase(poolSize: 4) { pool in
        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: TestEnvironment.require("KEEL_AMQP_URL")),
            logger: Logger(label: "test"))
        do {
            try await body(pool, connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}

/// Takes every message currently in `queue` (basic.get until empty).
func drainQueue(_ queue: String, on channel: AMQPChannel) async throws -> [AMQPDelivery] {
    var messages: [AMQPDelivery] = []
    while let delivery = try await channel.get(queue: queue) {
        try await channel.ack(delivery)
        messages.append(delivery)
    }
    return messages
}
