import Foundation
public import PGClient

/// Runs in the system of record: creation from triggers, deduplicated on (flow, idempotency key).
public struct RunStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Creates the run with its first history entries and the messages they cause, in one transaction
    /// (DESIGN invariants 1 and 3). A repeat of a (flow, idempotency key) writes nothing but
    /// `outbox(.existing)`'s messages, and returns the existing run.
    public func create(
        _ run: NewRun, history: [HistoryEntry], outbox: @Sendable (RunCreation) -> [OutboxMessage]
    ) async throws -> RunCreation {
        try await pool.withTransaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO runs (id, flow, version, status, input, idempotency_key, correlation_id, actor,
                                  reply_to, traceparent, last_seq)
                VALUES (\(UUID(uuidString: run.id)), \(run.flow), \(run.version), 'pending',
                        \(PGJSON(run.input.jsonString())), \(run.idempotencyKey), \(run.correlationID),
                        \(run.actor), \(run.replyTo), \(run.traceparent), \(history.count))
                ON CONFLICT (flow, idempotency_key) DO NOTHING
                RETURNING id
                """)
            let creation: RunCreation
            if inserted.isEmpty {
                let existing = try await connection.query(
                    "SELECT id, version FROM runs WHERE flow = \(run.flow) AND idempotency_key = \(run.idempotencyKey)"
                )
                guard let row = existing.first else {
                    throw PGError(code: .protocolViolation, message: "conflicting run not found")
                }
                creation = .existing(
                    runID: try row.decode(UUID.self, at: 0).uuidString.lowercased(),
                    version: try row.decode(Int.self, at: 1))
            } else {
                for (index, entry) in history.enumerated() {
                    try await connection.execute(
                        """
                        INSERT INTO run_history (run_id, seq, kind, step, attempt, actor, error_class, fact)
                        VALUES (\(UUID(uuidString: run.id)), \(index + 1), \(entry.kind), \(entry.step),
                                \(entry.attempt), \(entry.actor), \(entry.errorClass), \(PGJSON(entry.fact)))
                        """)
                }
                creation = .created(runID: run.id)
            }
            try await OutboxStore.enqueue(outbox(creation), on: connection)
            return creation
        }
    }

    /// The number of runs of a flow (for tests and `keel run list` summaries).
    public func count(flow: String) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query("SELECT count(*)::int8 FROM runs WHERE flow = \(flow)").first?.decode(
                Int.self, at: 0) ?? 0
        }
    }
}
