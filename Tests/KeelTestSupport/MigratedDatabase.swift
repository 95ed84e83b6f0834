public import KeelStore
public import PGClient

import Logging

/// Runs `body` against a fresh, empty database of its own, dropped afterwards (also when `body` throws).
public func withDatabase(poolSize: Int = 4, _ body: (PGPool) async throws -> Void) async throws {
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

/// Migrations a few at a time, as databases are created (`Admission` says why).
let migrations = Admission(width: 4)

/// Runs `body` against a fresh database of its own with every bundled migration applied, dropped afterwards.
public func withMigratedDatabase(poolSize: Int = 6, _ body: (PGPool) async throws -> Void) async throws {
    try await withDatabase(poolSize: poolSize) { pool in
        try await migrations.run {
            try await Migrator.bundled().migrate(pool: pool, logger: Logger(label: "test"))
        }
        try await body(pool)
    }
}

/// A resource store with the PostgreSQL content backend on a fresh migrated database, dropped afterwards.
public func withResourceStore(_ body: (ResourceStore) async throws -> Void) async throws {
    try await withMigratedDatabase { pool in
        try await body(ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool)))
    }
}
