import Foundation
public import KeelCore
import PGClient

extension RunStore {
    /// The ids of the `limit` most recent finished runs of `flow` that pinned a version other than
    /// `excludingVersion`, newest first: the recorded runs a shadow of that version replays.
    public func recentFinished(flow: String, excludingVersion version: Int, limit: Int) async throws
        -> [RunID]
    {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id FROM runs
                WHERE flow = \(flow) AND version <> \(version)
                  AND status IN ('succeeded', 'failed', 'cancelled')
                ORDER BY id DESC LIMIT \(max(limit, 0))
                """
            ).map { row in
                let (id) = try row.decode((RunID).self)
                return id
            }
        }
    }
}
