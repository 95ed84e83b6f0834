import AMQPClient
import Foundation
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// A migrated database of its own and a broker connection, both real, for one test.
func withBus(_ body: (PGPool, AMQPConnection) async throws -> Void) async throws {
    let database = try await TestDatabase.create()
    let pool = try database.pool(size: 4)
    let connection = try await AMQPConnection.connect(
        try AMQPConfiguration(url: TestEnvironment.require("KEEL_AMQP_URL")), logger: Logger(label: "test"))
    do {
        try await Migrator.bundled().migrate(pool: pool, logger: Logger(label: "test"))
        try await body(pool, connection)
    } catch {
        await connection.close()
        await pool.close()
        try await database.drop()
        throw error
    }
    await connection.close()
    await pool.close()
    try await database.drop()
}

/// Polls `condition` until it holds or `timeout` passes; the caller then asserts on it.
func eventually(
    timeout: Duration = .seconds(60), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
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
