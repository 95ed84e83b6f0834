import KeelCore
public import KeelSchema
public import Logging
public import PGClient

/// Applies Keel's numbered SQL migrations, each exactly once, and refuses to touch a database whose applied
/// migrations no longer match the files (a changed file, or a version this build does not know).
///
/// Concurrent migrators (several replicas starting together) serialise on a session advisory lock; each
/// file runs in its own transaction together with the row that records it, so a failure leaves the
/// database at the last complete version.
public struct Migrator: Sendable {
    /// The advisory lock key: "keelmigr" in ASCII.
    public static let lockKey: Int64 = 0x6b65_656c_6d69_6772

    public let files: [KeelSchema.File]

    public init(files: [KeelSchema.File]) {
        self.files = files
    }

    /// The migrations shipped in this build.
    public static func bundled() throws -> Migrator {
        Migrator(files: try KeelSchema.files())
    }

    /// The SHA-256 of a migration file's text, as lowercase hex.
    public static func checksum(of file: KeelSchema.File) -> String {
        ContentDigest.sha256Hex(of: file.sql.utf8)
    }

    /// Brings the database up to date and returns the files applied now (empty when it was current).
    @discardableResult
    public func migrate(pool: PGPool, logger: Logger) async throws -> [KeelSchema.File] {
        try await pool.withConnection { connection in
            // A migration may rewrite a large table, and replicas starting together wait here for the one
            // that migrates: neither may be cut off by the pool's statement and lock timeouts.
            try await connection.setTimeouts(statement: nil, lock: nil)
            let configuration = pool.configuration
            do {
                try await connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
                let applied = try await migrate(on: connection, logger: logger)
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                try await connection.setTimeouts(
                    statement: configuration.statementTimeout, lock: configuration.lockTimeout)
                return applied
            } catch {
                // The lock and the timeouts belong to the session, so they must not go back to the pool
                // with the connection: undo them, and if that fails (a cancelled Task skips the statement,
                // a lost connection cannot run it) close the connection, which drops the lock and makes
                // the pool discard it.
                do {
                    try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                    try await connection.setTimeouts(
                        statement: configuration.statementTimeout, lock: configuration.lockTimeout)
                } catch {
                    await connection.close()
                }
                throw error
            }
        }
    }

    /// How the database compares with this build's files, without changing anything.
    public func status(pool: PGPool) async throws -> SchemaStatus {
        try await pool.withConnection { connection in
            let exists =
                try await connection.query(
                    "SELECT to_regclass('keel_schema_migrations') IS NOT NULL"
                ).first?.decode((Bool).self) ?? false
            let applied = exists ? try await appliedMigrations(on: connection) : []
            return compare(applied: applied)
        }
    }

    func migrate(on connection: PGConnection, logger: Logger) async throws -> [KeelSchema.File] {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS keel_schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            );
            -- Whether the migration is expand-only (KeelSchema.File.compatibleMarker): recorded so that
            -- binaries older than it can tell a database they still work on from one they do not.
            ALTER TABLE keel_schema_migrations ADD COLUMN IF NOT EXISTS compatible boolean NOT NULL DEFAULT false
            """)
        let status = compare(applied: try await appliedMigrations(on: connection))
        if !status.changed.isEmpty || !status.unknown.isEmpty {
            throw MigrationError.mismatch(status)
        }
        var done: [KeelSchema.File] = []
        for file in status.pending {
            let clock = ContinuousClock()
            let started = clock.now
            try await connection.executeScript("BEGIN")
            do {
                try await connection.executeScript(file.sql)
                let elapsed = clock.now - started
                let milliseconds =
                    Int(elapsed.components.seconds * 1000)
                    + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
                try await connection.execute(
                    """
                    INSERT INTO keel_schema_migrations (version, name, checksum, duration_ms, compatible)
                    VALUES (\(file.version), \(file.name), \(Self.checksum(of: file)), \(milliseconds),
                            \(file.isCompatible))
                    """)
                try await connection.executeScript("COMMIT")
            } catch {
                _ = try? await connection.executeScript("ROLLBACK")
                throw MigrationError.failed(file: file.name, underlying: error)
            }
            logger.info("applied migration", metadata: ["migration": .string(file.name)])
            done.append(file)
        }
        return done
    }

    func appliedMigrations(on connection: PGConnection) async throws -> [AppliedMigration] {
        // A database last migrated by a build before the `compatible` column has none: nothing was marked.
        let marked =
            try await connection.query(
                """
                SELECT EXISTS (SELECT FROM information_schema.columns
                               WHERE table_name = 'keel_schema_migrations' AND column_name = 'compatible')
                """
            ).first?.decode((Bool).self) ?? false
        return try await connection.query(
            marked
                ? "SELECT version, name, checksum, compatible FROM keel_schema_migrations ORDER BY version"
                : "SELECT version, name, checksum, false FROM keel_schema_migrations ORDER BY version"
        ).map { row in
            let (version, name, checksum, compatible) = try row.decode((Int, String, String, Bool).self)
            return AppliedMigration(version: version, name: name, checksum: checksum, compatible: compatible)
        }
    }

    func compare(applied: [AppliedMigration]) -> SchemaStatus {
        let byVersion = Dictionary(uniqueKeysWithValues: files.map { ($0.version, $0) })
        let appliedVersions = Set(applied.map(\.version))
        var status = SchemaStatus(applied: applied)
        for migration in applied {
            guard let file = byVersion[migration.version] else {
                status.unknown.append(migration)
                continue
            }
            if Self.checksum(of: file) != migration.checksum { status.changed.append(file) }
        }
        status.pending = files.filter { !appliedVersions.contains($0.version) }
        return status
    }
}

/// A row of `keel_schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var checksum: String
    /// Marked expand-only by its file: builds that do not know it still work on the database.
    public var compatible: Bool

    public init(version: Int, name: String, checksum: String, compatible: Bool = false) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.compatible = compatible
    }
}

/// The database's migrations compared with this build's files.
public struct SchemaStatus: Sendable, Hashable {
    public var applied: [AppliedMigration]
    /// Files not applied yet.
    public var pending: [KeelSchema.File] = []
    /// Applied files whose text has changed since.
    public var changed: [KeelSchema.File] = []
    /// Applied versions this build has no file for: the database is newer than the binary.
    public var unknown: [AppliedMigration] = []

    /// The database holds exactly this build's schema.
    public var isCurrent: Bool { pending.isEmpty && changed.isEmpty && unknown.isEmpty }

    /// This build works on the database: it holds this build's schema, plus only newer migrations that
    /// are all expand-only (a rolling upgrade migrated ahead of this replica).
    public var isUsable: Bool { pending.isEmpty && changed.isEmpty && unknown.allSatisfy(\.compatible) }
}

/// Why `keel migrate` stopped. The description names the files involved and never SQL values.
public enum MigrationError: Error, CustomStringConvertible {
    case mismatch(SchemaStatus)
    case failed(file: String, underlying: any Error)

    public var description: String {
        switch self {
        case .mismatch(let status):
            var reasons: [String] = []
            for file in status.changed {
                reasons.append(
                    "\(file.name) was changed after it was applied (checksums differ); add a new migration instead"
                )
            }
            for migration in status.unknown {
                reasons.append(
                    "the database has migration \(migration.version) (\(migration.name)) that this build does not know; it is newer than this binary"
                )
            }
            return "refusing to migrate: " + reasons.joined(separator: "; ")
        case .failed(let file, let underlying):
            return "migration \(file) failed and was rolled back: \(underlying)"
        }
    }
}
