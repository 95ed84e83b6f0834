public import Foundation
public import KeelCore
public import PGClient

/// Runs in the system of record: creation from triggers, deduplicated on (flow, idempotency key).
public struct RunStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Creates the run and advances it with its `run.triggered` fact (which schedules its first steps), in
    /// one transaction with the messages `outbox` adds (DESIGN invariants 1 and 3). A repeat of a (flow,
    /// idempotency key) writes nothing but `outbox(.existing)`'s messages, and returns the existing run.
    public func create(
        _ run: NewRun, at time: Timestamp, advancer: RunAdvancer,
        outbox: @Sendable (RunCreation) -> [OutboxMessage]
    ) async throws -> RunCreation {
        try await advancer.withTransaction { connection in
            if let parent = run.parent { try await Self.lockWaiting(parent, on: connection) }
            let inserted = try await connection.query(
                """
                INSERT INTO runs (id, flow, version, status, input, idempotency_key, correlation_id, actor,
                                  reply_to, traceparent, parent_run_id, parent_step, parent_wait_id, depth,
                                  requester)
                VALUES (\(run.id), \(run.flow), \(run.version), 'pending',
                        \(PGJSON(run.input.jsonString())), \(run.idempotencyKey), \(run.correlationID),
                        \(run.actor), \(run.replyTo), \(run.traceparent),
                        \(run.parent?.runID), \(run.parent?.step),
                        \(run.parent?.waitID), \(run.depth), \(run.requester))
                ON CONFLICT (flow, idempotency_key) DO NOTHING
                RETURNING id
                """)
            let creation: RunCreation
            if inserted.isEmpty {
                let existing = try await connection.query(
                    "SELECT id, version FROM runs WHERE flow = \(run.flow) AND idempotency_key = \(run.idempotencyKey)"
                )
                guard let (id, version) = try existing.first?.decode((RunID, Int).self) else {
                    throw PGError(code: .protocolViolation, message: "conflicting run not found")
                }
                creation = .existing(runID: id, version: version)
            } else {
                try await advancer.advance(run: run.id, on: connection) { _ in
                    RunFact(at: time, event: .runTriggered(run.trigger))
                }
                creation = .created(runID: run.id)
            }
            try await OutboxStore.enqueue(outbox(creation), on: connection)
            return creation
        }
    }
}

extension RunStore {
    /// Holds the parent's row (against its cancellation, which then finds this child to cancel) and
    /// checks its step still waits for the child; throws `SubflowParentNotWaiting` when it does not.
    static func lockWaiting(_ parent: RunParent, on connection: PGConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT state->'steps'->\(parent.step)->>'status' = 'waiting'
                   AND state->'steps'->\(parent.step)->>'wait_id' = \(parent.waitID)
            FROM runs WHERE id = \(parent.runID) FOR SHARE
            """)
        let waiting: Bool?? = try rows.first?.decode((Bool?).self)
        guard waiting == true else {
            throw SubflowParentNotWaiting(parent: parent)
        }
    }

    /// Runs, newest first, optionally of one flow and in one status.
    public func list(flow: String? = nil, status: String? = nil, limit: Int = 50) async throws -> [RunSummary]
    {
        try await search(RunFilter(flow: flow, status: status, limit: limit))
    }

    /// Every fact of a run, in order; throws `RunStoreError.unknownRun` for an id that names no run.
    public func history(run id: RunID) async throws -> [RecordedFact] {
        try await pool.withConnection { connection in
            let exists = try await connection.query("SELECT 1 FROM runs WHERE id = \(id)")
            guard !exists.isEmpty else { throw RunStoreError.unknownRun(id.description) }
            return try await connection.query(
                """
                SELECT seq, kind, step, attempt, actor, error_class, fact::text, recorded_at
                FROM run_history WHERE run_id = \(id) ORDER BY seq
                """
            ).map { row in
                let (seq, kind, step, attempt, actor, errorClass, fact, recordedAt) =
                    try row.decode((Int, String, String?, Int?, String?, String?, String, Date).self)
                return RecordedFact(
                    seq: seq,
                    entry: HistoryEntry(
                        kind: kind, step: step, attempt: attempt, actor: actor, errorClass: errorClass,
                        fact: fact),
                    recordedAt: recordedAt)
            }
        }
    }
}

/// A run as listed.
public struct RunSummary: Sendable, Hashable, Codable {
    public var id: RunID
    public var flow: String
    public var version: Int
    /// pending, running, waiting, succeeded, failed or cancelled.
    public var status: String
    public var idempotencyKey: String
    public var correlationID: String
    public var actor: String
    /// Who the run was authenticated as being for (a publisher's principal, an API token's holder);
    /// nil when the trigger named nobody the broker vouched for.
    public var requester: String?
    public var createdAt: Date
    public var finishedAt: Date?
}

/// One stored fact with its position and the time the database recorded it.
public struct RecordedFact: Sendable, Hashable {
    public var seq: Int
    public var entry: HistoryEntry
    public var recordedAt: Date
}

/// Why a run operation was refused (a user error in the CLI).
public enum RunStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownRun(String)

    public var description: String {
        switch self {
        case .unknownRun(let id): "no run with id '\(id)'"
        }
    }
}

extension RunStore {
    /// The runs `flow` steps of this run started, oldest first.
    public func children(of id: RunID) async throws -> [RunTimeline.ChildRun] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, parent_step, flow, status FROM runs WHERE parent_run_id = \(id) ORDER BY id
                """
            ).map { row in
                let (id, step, flow, status) = try row.decode((RunID, String, String, String).self)
                return RunTimeline.ChildRun(runID: id, step: step, flow: flow, status: status)
            }
        }
    }
}
