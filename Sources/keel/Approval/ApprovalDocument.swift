import Foundation
import KeelCore

/// An approval as the approval-service's API sends it (snake_case keys; docs/api.md), decoded for the
/// CLI's text output. Times stay the API's ISO 8601 text: the CLI prints them, it does no arithmetic.
struct ApprovalDocument: Decodable {
    var id: String
    var runID: String
    var flow: String
    var version: Int
    var step: String
    var attempt: Int
    var status: String
    var summary: String?
    var bound: [JSONValue]
    var digests: [String]
    var approvers: [String]
    var requiredApprovals: Int
    var allowSelfApproval: Bool
    var requestChangesStep: String?
    var requester: String?
    var requestedAt: String
    var timeoutAt: String?
    var closedAt: String?
    var decisions: [Decision]

    /// One approver's recorded decision.
    struct Decision: Decodable {
        var approver: String
        var decision: String
        var note: String?
        var digests: [String]
        var decidedAt: String

        enum CodingKeys: String, CodingKey {
            case approver, decision, note, digests
            case decidedAt = "decided_at"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, flow, version, step, attempt, status, summary, bound, digests, approvers, requester, decisions
        case runID = "run_id"
        case requiredApprovals = "required_approvals"
        case allowSelfApproval = "allow_self_approval"
        case requestChangesStep = "request_changes_step"
        case requestedAt = "requested_at"
        case timeoutAt = "timeout_at"
        case closedAt = "closed_at"
    }

    /// Approvals counted towards `requiredApprovals`.
    var approvals: Int { decisions.filter { $0.decision == "approve" }.count }
}

/// `GET /v1/approvals`'s body.
struct ApprovalListDocument: Decodable {
    var approvals: [ApprovalDocument]
}

/// The body of `GET /v1/approvals/{id}` (`timeline` too) and of a decision (`approval` only).
struct ApprovalShowDocument: Decodable {
    var approval: ApprovalDocument
    /// `keel run show --json`'s document; the text output only reads its run status.
    var timeline: JSONValue?
}
