import Foundation
public import KeelCore
import PGClient

extension ResourceStore {
    /// The content a run may name as its own: what it stored (a callback's uploads, its steps' outputs,
    /// overflow of its values) and what its input names. Everything else — above all another run's
    /// resources — is refused where a worker names it, so one run's token cannot pull another run's
    /// artifacts into its run: a `res:sha256:` digest is not a capability.
    public func available(to runID: RunID) async throws -> Set<ResourceReference> {
        try await pool.withConnection { connection in
            var available = Set(
                try await connection.query(
                    "SELECT DISTINCT sha256 FROM resources WHERE run_id = \(runID)"
                ).map { try Self.reference(try $0.decode((String).self)) })
            if let input = try await connection.query("SELECT input::text FROM runs WHERE id = \(runID)")
                .first?.decode((String).self)
            {
                available.formUnion(ResourceReference.references(in: try JSONValue(parsing: input)))
            }
            return available
        }
    }
}
