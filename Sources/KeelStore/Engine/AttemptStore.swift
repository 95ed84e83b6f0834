import Foundation
public import KeelCore
import PGClient

/// The executor's side of an attempt: claim it with a lease, keep the lease alive, record its result
/// only while still holding it (DESIGN invariant 5), hand it back, and take back attempts whose
/// executor vanished.
///
/// Every transaction that touches both a run and its attempts locks the run first, as `RunAdvancer`
/// does, so executors and the engine never deadlock on each other.
public struct AttemptStore: Sendable {
    let advancer: RunAdvancer
    var pool: PGPool { advancer.pool }

    public init(advancer: RunAdvancer) {
        self.advancer = advancer
    }

    /// How long a claim lasts without a heartbeat.
    public var leaseDuration: Duration { advancer.settings.leaseDuration }

    /// Claims a dispatched attempt and records `step.started`. Nil when there is nothing to run: the
    /// attempt is already claimed or finished (a duplicate delivery), was stopped, or the run no longer
    /// wants it; the caller acks the dispatch either way.
    public func claim(_ dispatch: StepDispatch, executor: String) async throws -> ClaimedAttempt? {
        let run = dispatch.runID
        return try await advancer.withTransaction { connection in
            guard try await lockRun(run, on: connection) else { return nil }
            return try await claimLocked(dispatch, run: run, executor: executor, on: connection)
        }
    }

    /// Claims the attempt in the caller's transaction, which holds the run's lock.
    private func claimLocked(
        _ dispatch: StepDispatch, run: RunID, executor: String, on connection: PGConnection
    )
        async throws -> ClaimedAttempt?
    {
        let lease = advancer.settings.leaseDuration
        let claimed = try await connection.query(
            """
            UPDATE step_attempts
            SET status = 'running', lease_owner = \(executor), lease_token = lease_token + 1,
                lease_expires_at = now() + make_interval(secs => \(lease.seconds)),
                started_at = coalesce(started_at, now())
            WHERE run_id = \(run) AND step = \(dispatch.step) AND attempt = \(dispatch.attempt)
              AND status = 'scheduled'
            RETURNING lease_token
            """)
        guard let (token) = try claimed.first?.decode((Int64).self) else { return nil }
        let advance = try await advancer.advance(run: dispatch.runID, on: connection) { _ in
            RunFact(
                at: .now,
                event: .stepStarted(
                    step: dispatch.step, attempt: dispatch.attempt, executor: executor, leaseToken: token)
            )
        }
        guard !advance.ignored else {
            try await connection.execute(
                """
                UPDATE step_attempts SET status = 'cancelled', finished_at = now(), error_class = 'cancelled',
                       error_message = 'the run no longer runs this attempt'
                WHERE run_id = \(run) AND step = \(dispatch.step) AND attempt = \(dispatch.attempt)
                """)
            return nil
        }
        return ClaimedAttempt(
            dispatch: dispatch, executor: executor, leaseToken: token, state: advance.state)
    }

    /// Extends the lease. False when it is no longer this executor's (taken over after expiry, or the
    /// attempt was stopped: cancelled run, step timeout): the executor must stop the work.
    public func heartbeat(_ attempt: ClaimedAttempt) async throws -> Bool {
        let lease = advancer.settings.leaseDuration
        return try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                UPDATE step_attempts SET lease_expires_at = now() + make_interval(secs => \(lease.seconds))
                WHERE run_id = \(attempt.dispatch.runID) AND step = \(attempt.dispatch.step)
                  AND attempt = \(attempt.dispatch.attempt) AND lease_token = \(attempt.leaseToken)
                  AND status = 'running'
                RETURNING 1
                """)
            return !rows.isEmpty
        }
    }

    /// Records the result and advances the run, if the lease is still this executor's.
    public func complete(_ attempt: ClaimedAttempt, with result: AttemptResult, usage: Usage = .zero)
        async throws -> AttemptCompletion
    {
        try await complete(attempt, with: result, continuingIn: nil, usage: usage).completion
    }

    /// Records the result and advances the run, if the lease is still this executor's; when the run's
    /// next attempt is for `pool` (and needs no concurrency slot), claims it for this executor in the
    /// same transaction and returns it to be run here, in place of its dispatch (`InPlaceContinuation`).
    /// Nil `pool`: every next attempt is dispatched through the broker. What the attempt spent, `usage`, is
    /// recorded (`usage.recorded`) right before the result, in the same transaction and under the same lease.
    public func complete(
        _ attempt: ClaimedAttempt, with result: AttemptResult, continuingIn pool: String?,
        usage: Usage = .zero
    ) async throws -> (completion: AttemptCompletion, next: ClaimedAttempt?) {
        let run = attempt.dispatch.runID
        let dispatch = attempt.dispatch
        let (status, errorClass, message, outputs): (String, String?, String?, JSONObject?) =
            switch result {
            case .succeeded(let outputs): ("succeeded", nil, nil, outputs)
            case .failed(let errorClass, let message):
                (Self.attemptStatus(errorClass), errorClass.rawValue, message, nil)
            }
        return try await advancer.withTransaction { connection in
            guard try await lockRun(run, on: connection) else { return (.refused, nil) }
            let fenced = try await connection.query(
                """
                UPDATE step_attempts
                SET status = \(status), finished_at = now(), error_class = \(errorClass), error_message = \(message),
                    outputs = \(outputs.map { PGJSON(bytes: JSONValue.object($0).jsonBytes()) }),
                    lease_expires_at = NULL
                WHERE run_id = \(run) AND step = \(dispatch.step) AND attempt = \(dispatch.attempt)
                  AND lease_token = \(attempt.leaseToken) AND status = 'running'
                RETURNING 1
                """)
            guard !fenced.isEmpty else { return (.refused, nil) }
            guard let pool else {
                try await recordResult(result, of: dispatch, usage: usage, on: connection)
                return (.recorded, nil)
            }
            // Fresh ones per try of the transaction: what a rolled-back try took is not taken. The run
            // is advanced twice (result, then the next claim): its row is written once, at the end.
            let continuation = InPlaceContinuation(pool: pool, runID: dispatch.runID)
            let next = try await advancer.withDeferredSnapshots(on: connection) {
                try await InPlaceContinuation.$current.withValue(continuation) {
                    try await recordResult(result, of: dispatch, usage: usage, on: connection)
                }
                guard let next = continuation.dispatch else { return nil as ClaimedAttempt? }
                // The run is still locked: the next attempt's claim commits with this result, or neither does.
                return try await claimLocked(next, run: run, executor: attempt.executor, on: connection)
            }
            return (.recorded, next)
        }
    }

    private func recordResult(
        _ result: AttemptResult, of dispatch: StepDispatch, usage: Usage, on connection: PGConnection
    ) async throws {
        if !usage.isZero {
            try await advancer.advance(run: dispatch.runID, on: connection) { _ in
                RunFact(
                    at: .now,
                    event: .usageRecorded(step: dispatch.step, attempt: dispatch.attempt, usage: usage))
            }
        }
        try await advancer.advance(run: dispatch.runID, on: connection) { _ in
            switch result {
            case .succeeded(let outputs):
                RunFact(
                    at: .now,
                    event: .stepSucceeded(
                        step: dispatch.step, attempt: dispatch.attempt, outputs: outputs))
            case .failed(let errorClass, let message):
                RunFact(
                    at: .now,
                    event: .stepFailed(
                        step: dispatch.step, attempt: dispatch.attempt, errorClass: errorClass,
                        message: message))
            }
        }
    }

    /// Gives an attempt back unfinished (the executor is shutting down): it is dispatched again at
    /// once for another executor, which claims it with a new token.
    public func handBack(_ attempt: ClaimedAttempt) async throws {
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE step_attempts SET status = 'scheduled', lease_owner = NULL, lease_expires_at = NULL
                WHERE run_id = \(attempt.dispatch.runID) AND step = \(attempt.dispatch.step)
                  AND attempt = \(attempt.dispatch.attempt) AND lease_token = \(attempt.leaseToken)
                  AND status = 'running'
                RETURNING pool, shard
                """)
            guard let row = rows.first else { return }
            let (pool, shard) = try row.decode((String, Int).self)
            let route = StepRoute(pool: pool, shard: shard)
            try await OutboxStore.enqueue(
                [
                    RunCommands.message(
                        attempt.dispatch, routingKey: route.routingKey,
                        traceparent: attempt.state.trigger?.traceparent)
                ], on: connection)
        }
    }

    /// Takes back up to `limit` attempts whose lease expired (their executor died or lost the
    /// database) and dispatches them again. Returns how many.
    @discardableResult
    public func reclaimExpiredLeases(limit: Int = 100) async throws -> Int {
        try await reclaimExpiredAttempts(limit: limit).count
    }

    /// As `reclaimExpiredLeases`, returning the attempts taken back (for the sweeper's log).
    public func reclaimExpiredAttempts(limit: Int = 100) async throws -> [RunLogContext] {
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE step_attempts a SET status = 'scheduled', lease_owner = NULL, lease_expires_at = NULL
                FROM runs r
                WHERE r.id = a.run_id AND (a.run_id, a.step, a.attempt) IN (
                    SELECT run_id, step, attempt FROM step_attempts
                    WHERE status = 'running' AND lease_expires_at < now()
                    ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING a.run_id, r.flow, r.version, a.step, a.attempt, a.idempotency_key, r.correlation_id,
                          a.pool, a.shard, r.traceparent
                """)
            let reclaimed = try rows.map { row in
                let (
                    run, flow, version, step, attempt, idempotencyKey, correlationID, pool, shard, traceparent
                ) =
                    try row.decode(
                        (RunID, String, Int, String, Int, String, String, String, Int, String?).self)
                return (
                    dispatch: StepDispatch(
                        runID: run, flow: flow, version: version, step: step, attempt: attempt,
                        idempotencyKey: idempotencyKey, correlationID: correlationID),
                    route: StepRoute(pool: pool, shard: shard), traceparent: traceparent
                )
            }
            try await OutboxStore.enqueue(
                reclaimed.map {
                    RunCommands.message(
                        $0.dispatch, routingKey: $0.route.routingKey, traceparent: $0.traceparent)
                }, on: connection)
            return reclaimed.map { reclaimed in
                var context = RunLogContext(reclaimed.dispatch)
                context.traceID = RunLogContext.traceID(of: reclaimed.traceparent)
                return context
            }
        }
    }

    /// `step_attempts.status` for a failed attempt.
    static func attemptStatus(_ errorClass: ErrorClass) -> String {
        switch errorClass {
        case .timeout: "timed_out"
        case .cancelled: "cancelled"
        case .transient, .permanent: "failed"
        }
    }
}

/// Locks a run row for the rest of the transaction; false when there is no such run.
func lockRun(_ run: RunID, on connection: PGConnection) async throws -> Bool {
    !(try await connection.query("SELECT 1 FROM runs WHERE id = \(run) FOR UPDATE")).isEmpty
}

extension Duration {
    /// Whole and fractional seconds, for `make_interval`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
