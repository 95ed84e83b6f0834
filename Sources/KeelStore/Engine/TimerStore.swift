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
        try await fireDueTimers(limit: limit).count
    }

    /// Fires up to `limit` due timers, oldest first; returns the ones that fired (for the sweeper's log).
    public func fireDueTimers(limit: Int = 100) async throws -> [FiredTimer] {
        let due = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT id, run_id FROM run_timers WHERE due_at <= now() ORDER BY due_at LIMIT \(limit)"
            ).map { row in
                let (id, run) = try row.decode((String, RunID).self)
                return (id: id, run: run)
            }
        }
        var fired: [FiredTimer] = []
        for timer in due {
            if let firing = try await fire(timer.id, run: timer.run) { fired.append(firing) }
        }
        return fired
    }

    /// When the next timer is due, if any is armed.
    public func nextDue() async throws -> Date? {
        try await pool.withConnection { connection in
            let (due) = try await connection.query("SELECT min(due_at) FROM run_timers").first?.decode(
                (Date?).self)
            return due ?? nil
        }
    }

    private func fire(_ id: String, run: RunID) async throws -> FiredTimer? {
        try await advancer.withTransaction { connection in
            guard try await lockRun(run, on: connection) else { return nil }
            let deleted = try await connection.query("DELETE FROM run_timers WHERE id = \(id) RETURNING 1")
            guard !deleted.isEmpty else { return nil }
            var purpose: RunTimer.Purpose?
            let advance = try await advancer.advance(run: run, on: connection) {
                state in
                purpose = state.timers[id]?.purpose
                return RunFact(at: .now, event: .timerFired(timerID: id))
            }
            return FiredTimer(id: id, purpose: purpose, run: RunLogContext(advance.state))
        }
    }
}
