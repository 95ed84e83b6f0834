import Foundation
import KeelCore
import PGClient

/// Concurrency limits in the database: holders of each slot, and the attempts waiting for one in
/// arrival order. Counting and granting a slot happen under a transaction-scoped advisory lock on it,
/// so two transactions never both take its last place. A place that frees up is handed to the oldest
/// waiter that now fits in the same transaction that freed it: waiting attempts start without polling.
struct ConcurrencySlots {
    let connection: PGConnection
    let shards: Int

    /// How many waiters of a freed slot are looked at per release; the rest wait for the next one.
    static let grantScan = 32

    /// Takes every slot in `claims` for the attempt, or none and queues the attempt as a waiter.
    func acquire(_ claims: [SlotClaim], run: RunID, dispatch: StepDispatch, routingKey: String) async throws
        -> Bool
    {
        if try await take(claims, run: run) { return true }
        try await connection.execute(
            """
            INSERT INTO concurrency_waiters (run_id, step, attempt, claims, dispatch, routing_key)
            VALUES (\(run), \(dispatch.step), \(dispatch.attempt),
                    \(PGJSON(bytes: Array(try JSONEncoder().encode(claims)))),
                    \(PGJSON(bytes: dispatch.json.jsonBytes())), \(routingKey))
            ON CONFLICT (run_id, step, attempt) DO NOTHING
            """)
        return false
    }

    /// Frees what the run no longer needs after a transition (the slots of attempts that ended; all of
    /// them once the run finished), drops waiters that will never start, and dispatches the waiters the
    /// freed places now admit.
    func reconcile(run: RunID, state: RunState) async throws -> [OutboxMessage] {
        let flow = state.flow
        guard flow.concurrency != nil || flow.steps.contains(where: { $0.concurrency != nil }) else {
            return []
        }
        let active =
            state.status == .finished
            ? []
            : Set(
                state.steps.compactMap { id, step in
                    [.scheduled, .running].contains(step.status)
                        ? AttemptID(run: run, step: id, attempt: step.attempt).slotHolder : nil
                })
        let keepRun = state.status != .finished
        let released = try await connection.query(
            """
            DELETE FROM concurrency_holders
            WHERE run_id = \(run) AND NOT (holder = ANY(\(Array(active))) OR (\(keepRun) AND holder = 'run'))
            RETURNING slot
            """
        ).map { row in
            let (holder) = try row.decode((String).self)
            return holder
        }
        try await connection.execute(
            """
            DELETE FROM concurrency_waiters
            WHERE run_id = \(run) AND NOT (step || ':' || attempt = ANY(\(Array(active))))
            """)
        var messages: [OutboxMessage] = []
        for slot in Set(released).sorted() {
            messages.append(contentsOf: try await grant(slot))
        }
        return messages
    }

    /// Dispatches the oldest waiters of `slot` that fit every slot they need.
    private func grant(_ slot: String) async throws -> [OutboxMessage] {
        let filter = PGJSON(bytes: JSONValue.array([.object(["slot": .string(slot)])]).jsonBytes())
        let waiters = try await connection.query(
            """
            SELECT w.id, w.run_id, w.claims::text, w.dispatch::text, w.routing_key, r.traceparent
            FROM concurrency_waiters w JOIN runs r ON r.id = w.run_id
            WHERE w.claims @> \(filter) ORDER BY w.id LIMIT \(Self.grantScan) FOR UPDATE OF w SKIP LOCKED
            """)
        var messages: [OutboxMessage] = []
        for waiter in waiters {
            let (id, run, claimsJSON, dispatchJSON, routingKey, traceparent) =
                try waiter.decode((Int64, RunID, String, String, String, String?).self)
            let claims = try JSONDecoder().decode([SlotClaim].self, from: Data(claimsJSON.utf8))
            guard let limit = claims.first(where: { $0.slot == slot })?.limit else { continue }
            if try await count(slot) >= limit { break }
            guard try await take(claims, run: run),
                let dispatch = StepDispatch(json: try JSONValue(parsing: dispatchJSON))
            else { continue }
            try await connection.execute("DELETE FROM concurrency_waiters WHERE id = \(id)")
            messages.append(RunCommands.message(dispatch, routingKey: routingKey, traceparent: traceparent))
        }
        return messages
    }

    /// Takes all of `claims` or none. Slots are locked in name order, so two transactions taking
    /// overlapping sets cannot deadlock on each other.
    private func take(_ claims: [SlotClaim], run: RunID) async throws -> Bool {
        var missing: [SlotClaim] = []
        for claim in claims.sorted(by: { $0.slot < $1.slot }) {
            try await lock(claim.slot)
            let row = try await connection.query(
                """
                SELECT count(*), coalesce(bool_or(run_id = \(run) AND holder = \(claim.holder)), false)
                FROM concurrency_holders WHERE slot = \(claim.slot)
                """
            ).first
            let (held, holdsIt) = try row?.decode((Int64, Bool).self) ?? (Int64(0), false)
            if holdsIt { continue }
            guard held < Int64(claim.limit) else { return false }
            missing.append(claim)
        }
        for claim in missing {
            try await connection.execute(
                """
                INSERT INTO concurrency_holders (slot, run_id, holder) VALUES (\(claim.slot), \(run), \(claim.holder))
                ON CONFLICT DO NOTHING
                """)
        }
        return true
    }

    private func count(_ slot: String) async throws -> Int {
        try await lock(slot)
        let row = try await connection.query("SELECT count(*) FROM concurrency_holders WHERE slot = \(slot)")
            .first
        let count: Int64 = try row?.decode((Int64).self) ?? 0
        return Int(count)
    }

    private func lock(_ slot: String) async throws {
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(slot), 0))")
    }
}
