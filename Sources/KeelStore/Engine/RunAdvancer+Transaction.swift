public import PGClient

extension RunAdvancer {
    /// Runs `body` in a transaction and, once it has committed, records the metrics of every advance
    /// `body` made with `advance(run:on:)`. Facts a rolled-back or retried transaction appended are
    /// never counted; the advances of the attempt that committed are, once.
    public func withTransaction<T: Sendable>(_ body: (PGConnection) async throws -> T) async throws -> T {
        let committed = CommittedAdvances()
        let result = try await pool.withTransaction { connection in
            committed.removeAll()
            return try await CommittedAdvances.$current.withValue(committed) { try await body(connection) }
        }
        for advance in committed.advances { metrics.record(advance) }
        return result
    }
}
