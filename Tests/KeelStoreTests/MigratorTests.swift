import Foundation
import KeelSchema
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// `keel migrate`'s engine against the real PostgreSQL, each test in a database of its own.
@Suite struct MigratorTests {
    let logger = Logger(label: "migrator-tests")

    @Test func appliesEveryFileOnceAndIsIdempotent() async throws {
        try await withDatabase { pool in
            let migrator = try Migrator.bundled()
            #expect(!migrator.files.isEmpty)
            let first = try await migrator.migrate(pool: pool, logger: logger)
            #expect(first.map(\.version) == migrator.files.map(\.version))
            let second = try await migrator.migrate(pool: pool, logger: logger)
            #expect(second.isEmpty)
            let status = try await migrator.status(pool: pool)
            #expect(status.isCurrent)
            #expect(status.applied.map(\.checksum) == migrator.files.map(Migrator.checksum(of:)))
            // The tables the next issues build on exist.
            for table in [
                "flows", "flow_versions", "flow_releases", "runs", "run_history", "step_attempts", "outbox",
            ] {
                let exists = try await pool.withConnection {
                    try await $0.query("SELECT to_regclass(\(table)) IS NOT NULL").first?.decode(
                        (Bool).self)
                }
                #expect(exists == true, "table \(table)")
            }
        }
    }

    @Test func aFileMarkedCompatibleIsRecordedSoOlderBuildsCanTell() async throws {
        try await withDatabase { pool in
            let bundled = try Migrator.bundled()
            let next = (bundled.files.last?.version ?? 0) + 1
            let marked = KeelSchema.File(
                version: next, name: "\(next)_expand.sql",
                sql:
                    "-- Adds a table nothing old reads.\n\(KeelSchema.File.compatibleMarker)\nCREATE TABLE expand_only (id int);"
            )
            let plain = KeelSchema.File(
                version: next + 1, name: "\(next + 1)_contract.sql", sql: "DROP TABLE expand_only;")
            #expect(marked.isCompatible && !plain.isCompatible)
            try await Migrator(files: bundled.files + [marked, plain]).migrate(pool: pool, logger: logger)
            // Seen by this build (which knows neither file): ahead, usable only while every newer one is marked.
            var status = try await bundled.status(pool: pool)
            #expect(status.unknown.map(\.compatible) == [true, false])
            #expect(!status.isUsable)
            try await pool.withConnection {
                try await $0.execute("DELETE FROM keel_schema_migrations WHERE version = \(next + 1)")
            }
            status = try await bundled.status(pool: pool)
            #expect(status.isUsable && !status.isCurrent)
        }
    }

    @Test func concurrentMigratorsApplyEachFileExactlyOnce() async throws {
        try await withDatabase { pool in
            let migrator = try Migrator.bundled()
            let applied = try await withThrowingTaskGroup(of: [KeelSchema.File].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await migrator.migrate(pool: pool, logger: logger) }
                }
                var all: [KeelSchema.File] = []
                for try await files in group { all += files }
                return all
            }
            #expect(applied.map(\.version).sorted() == migrator.files.map(\.version))
            let rows = try await pool.withConnection {
                try await $0.query("SELECT count(*)::int8 FROM keel_schema_migrations").first?.decode(
                    (Int).self)
            }
            #expect(rows == migrator.files.count)
        }
    }

    @Test func refusesWhenAnAppliedFileChanged() async throws {
        try await withDatabase { pool in
            let migrator = try Migrator.bundled()
            try await migrator.migrate(pool: pool, logger: logger)
            var files = migrator.files
            files[0] = KeelSchema.File(
                version: files[0].version, name: files[0].name, sql: files[0].sql + "\n-- edited")
            let edited = Migrator(files: files)
            await #expect {
                try await edited.migrate(pool: pool, logger: logger)
            } throws: { error in
                String(describing: error).contains(files[0].name)
                    && String(describing: error).contains("changed")
            }
            #expect(try await edited.status(pool: pool).changed.map(\.name) == [files[0].name])
        }
    }

    @Test func refusesADatabaseNewerThanTheBuild() async throws {
        try await withDatabase { pool in
            let migrator = try Migrator.bundled()
            try await migrator.migrate(pool: pool, logger: logger)
            let older = Migrator(files: Array(migrator.files.dropLast()))
            await #expect {
                try await older.migrate(pool: pool, logger: logger)
            } throws: { error in
                String(describing: error).contains("newer than this binary")
            }
            #expect(try await older.status(pool: pool).isCurrent == false)
        }
    }

    @Test func aFailingMigrationRollsBackCompletely() async throws {
        try await withDatabase { pool in
            let broken = Migrator(files: [
                KeelSchema.File(version: 1, name: "0001_ok.sql", sql: "CREATE TABLE a (x int);"),
                KeelSchema.File(
                    version: 2, name: "0002_broken.sql",
                    sql: "CREATE TABLE b (x int); INSERT INTO b VALUES ('not a number');"),
            ])
            await #expect {
                try await broken.migrate(pool: pool, logger: logger)
            } throws: { error in
                String(describing: error).contains("0002_broken.sql")
            }
            let status = try await broken.status(pool: pool)
            #expect(status.applied.map(\.version) == [1])
            let tableB = try await pool.withConnection {
                try await $0.query("SELECT to_regclass('b') IS NOT NULL").first?.decode((Bool).self)
            }
            #expect(tableB == false)
        }
    }

    /// The migration lock is held by the session: a migrator cancelled mid-file must not hand a connection
    /// that still holds it back to the pool, or every later migrator (in any replica) waits forever.
    @Test func aCancelledMigrationDoesNotLeaveTheLockHeld() async throws {
        try await withDatabase { pool in
            let marker = "keel_migrate_cancel_\(UInt32.random(in: 0...UInt32.max))"
            let slow = Migrator(files: [
                KeelSchema.File(
                    version: 1, name: "0001_slow.sql", sql: "SELECT pg_sleep(60), '\(marker)';")
            ])
            let observer = PGPool(configuration: pool.configuration, size: 1, logger: logger)
            do {
                try await cancelMigration(slow, marker: marker, pool: pool, observer: observer)
            } catch {
                await observer.close()
                throw error
            }
            await observer.close()
            #expect(try await Migrator.bundled().migrate(pool: pool, logger: logger).isEmpty == false)
        }
    }

    func cancelMigration(_ slow: Migrator, marker: String, pool: PGPool, observer: PGPool) async throws {
        let migration = Task { try await slow.migrate(pool: pool, logger: logger) }
        try await waitUntil("the slow migration to run") {
            try await observer.withConnection { connection in
                let active = try await connection.query(
                    """
                    SELECT count(*)::int8 FROM pg_stat_activity
                    WHERE state = 'active' AND query LIKE '%' || \(marker) || '%'
                      AND pid <> pg_backend_pid()
                    """
                ).first?.decode((Int).self)
                return active == 1
            }
        }
        migration.cancel()
        await #expect(throws: (any Error).self) { try await migration.value }
        try await waitUntil("the migration lock to be free") {
            try await observer.withConnection { connection in
                let taken = try await connection.query(
                    "SELECT pg_try_advisory_lock(\(Migrator.lockKey))"
                ).first?.decode((Bool).self)
                if taken == true {
                    try await connection.execute("SELECT pg_advisory_unlock(\(Migrator.lockKey))")
                }
                return taken == true
            }
        }
    }

    @Test func historyAndReleasesAreAppendOnly() async throws {
        try await withDatabase { pool in
            try await Migrator.bundled().migrate(pool: pool, logger: logger)
            let run = UUID()
            try await pool.withConnection { connection in
                try await connection.execute("INSERT INTO flows (name) VALUES ('demo')")
                try await connection.execute(
                    """
                    INSERT INTO flow_versions (flow, version, sha256, definition, source, author)
                    VALUES ('demo', 1, \(String(repeating: "a", count: 64)), '{}'::jsonb, 'flow: demo', 'test')
                    """)
                try await connection.execute(
                    """
                    INSERT INTO runs (id, flow, version, input, idempotency_key, correlation_id, actor)
                    VALUES (\(run), 'demo', 1, '{}'::jsonb, 'k1', 'c1', 'test')
                    """)
                try await connection.execute(
                    "INSERT INTO run_history (run_id, seq, kind, fact) VALUES (\(run), 1, 'run.triggered', '{}'::jsonb)"
                )
            }
            for statement: PGQuery in [
                "UPDATE run_history SET kind = 'forged' WHERE run_id = \(run)",
                "DELETE FROM run_history WHERE run_id = \(run)",
                "TRUNCATE run_history CASCADE",
                "UPDATE flow_versions SET source = 'changed'",
            ] {
                await #expect(throws: PGError.self) {
                    try await pool.withConnection { try await $0.execute(statement) }
                }
            }
            let kinds = try await pool.withConnection {
                try await $0.query("SELECT kind FROM run_history WHERE run_id = \(run)").map {
                    try $0.decode((String).self)
                }
            }
            #expect(kinds == ["run.triggered"])
        }
    }
}
