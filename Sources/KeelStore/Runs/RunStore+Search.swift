import Foundation
public import KeelCore
import PGClient

extension RunStore {
    /// Runs matching `filter`, newest first, at most `filter.limit` (capped at `RunFilter.maximumLimit`).
    ///
    /// The text filter is a substring test on the input's JSON text (`strpos`, not `LIKE`, so `%` and `_`
    /// in it mean themselves); a window or flow keeps it to the rows an index finds.
    public func search(_ filter: RunFilter) async throws -> [RunSummary] {
        let limit = min(max(filter.limit, 1), RunFilter.maximumLimit)
        let before = filter.before
        let text = filter.text.map { $0.lowercased() }
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, flow, version, status, idempotency_key, correlation_id, actor, requester, created_at,
                       finished_at
                FROM runs
                WHERE (\(filter.flow)::text IS NULL OR flow = \(filter.flow))
                  AND (\(filter.status)::text IS NULL OR status = \(filter.status))
                  AND (\(filter.requester)::text IS NULL OR requester = \(filter.requester))
                  AND (\(filter.since)::timestamptz IS NULL OR created_at >= \(filter.since))
                  AND (\(filter.until)::timestamptz IS NULL OR created_at < \(filter.until))
                  AND (\(before)::uuid IS NULL OR id < \(before))
                  AND (\(text)::text IS NULL OR strpos(lower(input::text), \(text)) > 0)
                ORDER BY id DESC LIMIT \(limit)
                """
            ).map(Self.summary)
        }
    }
}

extension RunStore {
    /// One run as listed, or nil when no run has this id.
    public func summary(of id: RunID) async throws -> RunSummary? {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, flow, version, status, idempotency_key, correlation_id, actor, requester, created_at,
                       finished_at
                FROM runs WHERE id = \(id)
                """
            ).first.map(Self.summary)
        }
    }

    /// The run with this idempotency key of `flow`, if trigger-intake made it.
    public func summary(flow: String, idempotencyKey: String) async throws -> RunSummary? {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, flow, version, status, idempotency_key, correlation_id, actor, requester, created_at,
                       finished_at
                FROM runs WHERE flow = \(flow) AND idempotency_key = \(idempotencyKey)
                """
            ).first.map(Self.summary)
        }
    }

    static func summary(_ row: PGRow) throws -> RunSummary {
        let (id, flow, version, status, key, correlation, actor, requester, created, finished) =
            try row.decode((RunID, String, Int, String, String, String, String, String?, Date, Date?).self)
        return RunSummary(
            id: id, flow: flow, version: version, status: status,
            idempotencyKey: key, correlationID: correlation, actor: actor, requester: requester,
            createdAt: created, finishedAt: finished)
    }
}
