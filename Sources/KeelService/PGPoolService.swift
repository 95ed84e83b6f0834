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
        ReadinessCheck(name: "postgres") { [pool] in
            _ = try await pool.withConnection { try await $0.query("SELECT 1") }
        }
    }

    /// Readiness: the database holds exactly the migrations this build ships.
    public func schemaCheck(migrator: Migrator) -> ReadinessCheck {
        ReadinessCheck(name: "schema") { [pool] in
            let status = try await migrator.status(pool: pool)
            guard status.isCurrent else { throw SchemaNotCurrent(status: status) }
        }
    }

    struct SchemaNotCurrent: Error, CustomStringConvertible {
        let status: SchemaStatus
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
