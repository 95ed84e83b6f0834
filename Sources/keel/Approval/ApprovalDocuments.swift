import KeelCore
import KeelStore

/// `GET /v1/approvals`'s body.
struct ApprovalListDocument: Decodable {
    var approvals: [ApprovalRecord]
}

/// The body of `GET /v1/approvals/{id}` (with `timeline`) and of a decision (`approval` only).
struct ApprovalShowDocument: Decodable {
    var approval: ApprovalRecord
    /// `keel run show --json`'s document; the text output reads only the run's status from it.
    var timeline: JSONValue?

    var runStatus: String? {
        guard case .object(let timeline) = timeline, case .string(let status) = timeline["status"] else {
            return nil
        }
        return status
    }
}
