import Logging
import Metrics
import PGClient
import ServiceLifecycle

/// Keeps `keel_approvals_pending` current by counting pending approvals every `interval`; approvals open
/// and close in other services' transactions too (requests, timeouts), so counting is the honest source.
struct PendingApprovalsGauge: Service {
    let pool: PGPool
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let gauge = Gauge(label: "keel_approvals_pending")
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let rows = try await pool.withConnection { connection in
                    try await connection.query("SELECT count(*) FROM approvals WHERE status = 'pending'")
                }
                gauge.record(try rows.first?.decode((Int).self) ?? 0)
            } catch {
                logger.warning("counting pending approvals failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
