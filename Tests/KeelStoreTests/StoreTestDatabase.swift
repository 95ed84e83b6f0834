import KeelStore
import KeelTestSupport
import Logging
import PGClient

/// Runs `body` against a fresh, migrated database of its own, dropped afterwards.
func withMigratedDatabase(_ body: (PGPool) async throws -> Void) async throws {
    let database = try await TestDatabase.create()
    let pool = try database.pool(size: 6)
    do {
        try await Migrator.bundled().migrate(pool: pool, logger: Logger(label: "test"))
        try await body(pool)
    } catch {
        await pool.close()
        try await database.drop()
        throw error
    }
    await pool.close()
    try await database.drop()
}
