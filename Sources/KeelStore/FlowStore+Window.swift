public import Foundation

extension FlowStore {
    /// Releases and rollbacks made at or after `since` (of `flow` when given), oldest first.
    public func releases(since: Date, flow: String? = nil) async throws -> [FlowReleaseRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.releaseColumnList) FROM flow_releases
                WHERE created_at >= \(since) AND (\(flow)::text IS NULL OR flow = \(flow))
                ORDER BY id
                """
            ).map(Self.releaseRecord)
        }
    }
}
