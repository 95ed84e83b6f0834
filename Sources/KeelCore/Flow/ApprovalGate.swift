/// Stops the run until enough people approve (or one rejects), as a reviewer signs off a change.
public struct ApprovalGate: Sendable, Hashable {
    /// Users and `group:` names allowed to decide (a set, kept sorted).
    public var approvers: [Approver]
    public var requiredApprovals: Int
    /// Whether the person who triggered the run may approve it.
    public var allowSelfApproval: Bool
    /// Template shown to approvers.
    public var summary: String?
    /// Templates of artifacts (usually resource outputs) the decision is bound to: an approval
    /// covers exactly these bytes.
    public var bind: [String]
    public var timeout: FlowDuration?
    public var onTimeout: ApprovalTimeoutAction
    /// Remind approvers after this long without a decision.
    public var reminder: FlowDuration?
    public var requestChanges: RequestChanges?

    public init(
        approvers: [Approver], requiredApprovals: Int = 1, allowSelfApproval: Bool = false,
        summary: String? = nil,
        bind: [String] = [], timeout: FlowDuration? = nil, onTimeout: ApprovalTimeoutAction = .reject,
        reminder: FlowDuration? = nil, requestChanges: RequestChanges? = nil
    ) {
        self.approvers = approvers
        self.requiredApprovals = requiredApprovals
        self.allowSelfApproval = allowSelfApproval
        self.summary = summary
        self.bind = bind
        self.timeout = timeout
        self.onTimeout = onTimeout
        self.reminder = reminder
        self.requestChanges = requestChanges
    }
}

/// Someone who may decide an approval.
public enum Approver: Sendable, Hashable, Comparable, CustomStringConvertible {
    case user(String)
    /// Written `group:NAME`.
    case group(String)

    public var description: String {
        switch self {
        case .user(let name): name
        case .group(let name): "group:" + name
        }
    }

    public static func < (lhs: Approver, rhs: Approver) -> Bool { lhs.description < rhs.description }
}

/// What happens when an approval's timeout passes without a decision.
public enum ApprovalTimeoutAction: String, Sendable, Hashable, CaseIterable {
    /// The approval counts as rejected: the step fails as a decision (the default).
    case reject
    case approve
    /// The step fails with error class `timeout` (and may be retried).
    case fail
}

/// Lets an approver send the run back to an earlier step with a note, at most `maxRounds` times.
public struct RequestChanges: Sendable, Hashable {
    /// An ancestor of the approval step; it and everything between re-run with the note.
    public var step: String
    public var maxRounds: Int

    public init(step: String, maxRounds: Int = 3) {
        self.step = step
        self.maxRounds = maxRounds
    }
}
