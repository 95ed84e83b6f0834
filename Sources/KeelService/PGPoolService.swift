public import KeelStore
public import PGClient
public import ServiceLifecycle

/// Closes a service's PostgreSQL pool on graceful shutdown, after the HTTP server has stopped.
public struct PGPoolService: Service {
    public let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }

    /// Readiness: the pool hands out a connection that answers a query.
    public var readinessCheck: ReadinessCheck {
        ReadinessCheck(name: "postgres", reason: Self.publicReason) { [pool] in
            _ = try await pool.withConnection { try await $0.query("SELECT 1") }
        }
    }

    /// Readiness: the database holds exactly the migrations this build ships.
    public func schemaCheck(migrator: Migrator) -> ReadinessCheck {
        let needed = migrator.files.map(\.version).max() ?? 0
        return ReadinessCheck(
            name: "schema",
            reason: { error in
                (error as? SchemaNotCurrent)?.publicReason(needed: needed) ?? Self.publicReason(error)
            }
        ) { [pool] in
            let status = try await migrator.status(pool: pool)
            // Newer expand-only migrations are fine: a rolling upgrade migrated before this replica left.
            guard status.isUsable else { throw SchemaNotCurrent(status: status) }
        }
    }

    /// A database failure in words fit for anyone: the kind of failure, never the server's message.
    static func publicReason(_ error: any Error) -> String {
        guard let error = error as? PGError else { return "cannot connect" }
        switch error.code {
        case .timeout: return "timed out"
        case .server: return "query failed"
        case .poolClosed: return "shutting down"
        default: return "cannot connect"
        }
    }

    struct SchemaNotCurrent: Error, CustomStringConvertible {
        let status: SchemaStatus

        /// Versions only: "migrations behind: database at 12, this build needs 14 (run keel migrate)".
        func publicReason(needed: Int) -> String {
            let at = status.applied.map(\.version).max() ?? 0
            if !status.unknown.allSatisfy(\.compatible) {
                return "database ahead: database at \(at), this build knows up to \(needed), "
                    + "and a newer migration is not marked compatible"
            }
            if !status.changed.isEmpty { return "applied migrations differ from this build's" }
            return "migrations behind: database at \(at), this build needs \(needed) (run keel migrate)"
        }

        var description: String {
            var parts: [String] = []
            if !status.pending.isEmpty {
                parts.append(
                    "pending: " + status.pending.map(\.name).joined(separator: ", ") + " (run keel migrate)")
            }
            if !status.changed.isEmpty {
                parts.append("changed: " + status.changed.map(\.name).joined(separator: ", "))
            }
            if !status.unknown.isEmpty {
                parts.append("newer than this build: " + status.unknown.map(\.name).joined(separator: ", "))
            }
            return "schema does not match this build; " + parts.joined(separator: "; ")
        }
    }
}
