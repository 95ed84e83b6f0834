import Foundation
import KeelCore
import PGClient

/// An early callback: verified and recorded before its wait opened, applied by the advance that opens the
/// wait, in the same transaction and under the same run lock, so it is applied exactly once.
struct KeptCallback {
    let id: Int
    let waitID: String
    let status: CallbackStatus
    let outputs: JSONValue

    /// The terminal callback kept for `waitID` and not applied yet, if any.
    static func pending(for waitID: String, on connection: PGConnection) async throws -> KeptCallback? {
        guard
            let row = try await connection.query(
                """
                SELECT id, status, output::text, resources::text FROM callbacks
                WHERE wait_id = \(waitID) AND disposition = 'early' AND NOT applied AND status <> 'heartbeat'
                """
            ).first
        else { return nil }
        let (id, rawStatus, outputText, resourcesText) = try row.decode((Int, String, String, String).self)
        guard let status = CallbackStatus(rawValue: rawStatus) else { return nil }
        let output = try JSONValue(parsing: outputText)
        let resources = CallbackPayload.resources(try JSONValue(parsing: resourcesText))
        return KeptCallback(
            id: id, waitID: waitID, status: status,
            outputs: CallbackPayload.outputs(output, resources: resources).0)
    }

    func fact(step: String) -> RunFact {
        RunFact(
            at: .now, event: .callbackReceived(step: step, waitID: waitID, status: status, output: outputs))
    }

    /// Marks the callback applied, with the answer its wait now stores.
    func markApplied(on connection: PGConnection) async throws {
        try await connection.execute(
            """
            UPDATE callbacks SET applied = true, applied_at = now(),
                   answer = (SELECT outcome FROM waits WHERE id = \(waitID))
            WHERE id = \(id)
            """)
    }
}
