public import Foundation
public import KeelCore

/// Where an approval stands. Only `pending` takes decisions; every other status is final.
public enum ApprovalStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending
    case approved
    case rejected
    case changesRequested = "changes_requested"
    /// The gate's timeout decided (`on_timeout`), or failed the step.
    case timedOut = "timed_out"
    /// The run was cancelled or finished while the approval was open.
    case cancelled
    /// Superseded: the run went back past the gate and asked again, usually about regenerated artifacts.
    case void
}

/// One person's decision on an approval, as recorded (append-only).
public struct ApprovalDecisionRecord: Sendable, Hashable, Codable {
    /// The API token's name.
    public var approver: String
    public var decision: StepContext.Decision
    public var note: String?
    /// The bound artifacts' digests this decision covers.
    public var digests: [String]
    public var decidedAt: Date

    public init(
        approver: String, decision: StepContext.Decision, note: String?, digests: [String], decidedAt: Date
    ) {
        self.approver = approver
        self.decision = decision
        self.note = note
        self.digests = digests
        self.decidedAt = decidedAt
    }

    enum CodingKeys: String, CodingKey {
        case approver, decision, note, digests
        case decidedAt = "decided_at"
    }
}

/// An approval gate's request as approvers see it: what they are asked, who may answer, what was decided.
/// Its JSON (snake_case keys) is the approval-service API's `approval` object.
public struct ApprovalRecord: Sendable, Hashable, Codable {
    /// `<run>:<step>:<attempt>:approval`, the id the run's history uses.
    public var id: String
    public var runID: RunID
    public var flow: String
    public var version: Int
    public var step: String
    public var attempt: Int
    public var status: ApprovalStatus
    /// The gate's `summary`, rendered.
    public var summary: String?
    /// The gate's `bind` values, evaluated (a resource output is its `{"$resource": "res:sha256:…"}` object).
    public var bound: [JSONValue]
    /// One SHA-256 per bound value (`ApprovalDigest`): exactly what an approval covers.
    public var digests: [String]
    /// `alice`, `group:reviewers`.
    public var approvers: [String]
    public var requiredApprovals: Int
    public var allowSelfApproval: Bool
    /// The step `request_changes` sends the run back to; nil when the gate does not allow it.
    public var requestChangesStep: String?
    /// Who triggered the run.
    public var requester: String?
    public var requestedAt: Date
    public var timeoutAt: Date?
    public var closedAt: Date?
    /// Why the approval closed, in words (`approved by alice`, `superseded: bound artifacts changed`).
    public var closedReason: String?
    public var decisions: [ApprovalDecisionRecord]
    /// The W3C trace id of the run the gate belongs to (from its trigger), so what the approval-service
    /// logs about a decision joins the run's one trace.
    public var traceID: String?

    enum CodingKeys: String, CodingKey {
        case id, flow, version, step, attempt, status, summary, bound, digests, approvers, requester,
            decisions
        case runID = "run_id"
        case requiredApprovals = "required_approvals"
        case allowSelfApproval = "allow_self_approval"
        case requestChangesStep = "request_changes_step"
        case requestedAt = "requested_at"
        case timeoutAt = "timeout_at"
        case closedAt = "closed_at"
        case closedReason = "closed_reason"
        case traceID = "trace_id"
    }

    /// Distinct approvers who approved so far.
    public var approvalCount: Int { decisions.filter { $0.decision == .approve }.count }

    /// Whether `principal` is one of the gate's approvers, by name or by group.
    public func lists(_ principal: APITokenRecord) -> Bool {
        approvers.contains(principal.name) || principal.groups.contains { approvers.contains("group:" + $0) }
    }

    /// Whether `principal` may see this approval: operators and admins see all, approvers those they are
    /// listed on.
    public func isVisible(to principal: APITokenRecord) -> Bool {
        principal.role >= .operator || lists(principal)
    }
}
