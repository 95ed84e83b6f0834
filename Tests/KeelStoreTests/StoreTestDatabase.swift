import KeelStore
import KeelTestSupport
import Logging
import PGClient

/// Runs `body` against a fresh, empty database of its own, dropped afterwards.
func withDatabase(poolSize: Int = 4, _ body: (PGPool) async throws -> Void) async throws {
    let database = try await TestDatabase.create()
    let pool = try database.pool(size: poolSize)
    do {
        try await body(pool)
    } catch {
        await pool.close()
        try await database.drop()
        throw error
    }
    await pool.close()
    try await database.drop()
}

/// Runs `body` against a fresh database of its own with every bundled migration applied, dropped afterwards.
func withMigratedDatabase(_ body: (PGPool) async throws -> Void) async throws {
    try await withDatabase(poolSize: 6) { pool in
        try await Migrator.bundled().migrate(pool: pool, logger: Logger(label: "test"))
        try await body(pool)
    }
}
