import Foundation
import PGClient

extension RunStore {
    /// The run's identity for log lines (flow, release, correlation id, trace), read from its row: for lines
    /// whose caller knows only the run id (a callback's claims, an approval). Nil when there is no such run.
    public func logContext(of runID: String) async throws -> RunLogContext? {
        guard let id = UUID(uuidString: runID) else { return nil }
        return try await pool.withConnection { connection in
            guard
                let row = try await connection.query(
                    "SELECT flow, version, correlation_id, traceparent FROM runs WHERE id = \(id)"
                ).first
            else { return nil }
            return RunLogContext(
                runID: id.uuidString.lowercased(), correlationID: try row.decode(String.self, at: 2),
                flow: try row.decode(String.self, at: 0), release: try row.decode(Int.self, at: 1),
                traceID: RunLogContext.traceID(of: try row.decode(String?.self, at: 3)))
        }
    }
}
