import Foundation
public import KeelCore
import PGClient

extension RunStore {
    /// The run's identity for log lines (flow, release, correlation id, trace), read from its row: for lines
    /// whose caller knows only the run id (a callback's claims, an approval). Nil when there is no such run.
    public func logContext(of id: RunID) async throws -> RunLogContext? {
        try await pool.withConnection { connection in
            guard
                let (flow, version, correlationID, traceparent) = try await connection.query(
                    "SELECT flow, version, correlation_id, traceparent FROM runs WHERE id = \(id)"
                ).first?.decode((String, Int, String, String?).self)
            else { return nil }
            return RunLogContext(
                runID: id, correlationID: correlationID, flow: flow, release: version,
                traceID: RunLogContext.traceID(of: traceparent))
        }
    }
}
