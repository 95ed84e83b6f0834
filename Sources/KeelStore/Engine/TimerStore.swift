public import Foundation
import KeelCore
import PGClient

/// Durable timers (retry delays, step, queue, wait and run timeouts): the reducer arms and disarms them
/// through `RunAdvancer`; any number of sweepers fire them. A timer is deleted in the transaction that
/// records its `timer.fired`, after the run's lock, so it fires once even with many sweepers racing.
public struct TimerStore: Sendable {
    let advancer: RunAdvancer
    var pool: PGPool { advancer.pool }

    public init(advancer: RunAdvancer) {
        self.advancer = advancer
    }

    /// Fires up to `limit` due timers, oldest first; returns how many fired.
    @discardableResult
    public func fireDue(limit: Int = 100) async throws -> Int {
        let due = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT id, run_id FROM run_timers WHERE due_at <= now() ORDER BY due_at LIMIT \(limit)"
            ).map { (id: try $0.decode(String.self, at: 0), run: try $0.decode(UUID.self, at: 1)) }
        }
        var fired = 0
        for timer in due where try await fire(timer.id, run: timer.run) { fired += 1 }
        return fired
    }

    /// When the next timer is due, if any is armed.
    public func nextDue() async throws -> Date? {
        try await pool.withConnection { connection in
            try await connection.query("SELECT min(due_at) FROM run_timers").first?.decode(Date?.self, at: 0)
        }
    }

    private func fire(_ id: String, run: UUID) async throws -> Bool {
        try await advancer.withTransaction { connection in
            guard try await lockRun(run, on: connection) else { return false }
            let deleted = try await connection.query("DELETE FROM run_timers WHERE id = \(id) RETURNING 1")
            guard !deleted.isEmpty else { return false }
            try await advancer.advance(run: run.uuidString.lowercased(), on: connection) { _ in
                RunFact(at: .now, event: .timerFired(timerID: id))
            }
            return true
        }
    }
}
