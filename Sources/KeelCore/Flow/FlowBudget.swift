/// A flow's per-run spending limits (`budget:`) and who may allow more.
///
/// When a run has used a limit up, the next step that costs waits at a budget gate ([BudgetGate]) for one
/// of `approvers`; approving raises every limit by `raise`, rejecting fails the run as `budget_exceeded`.
public struct FlowBudget: Sendable, Hashable {
    /// At least one dimension is limited.
    public var limits: UsageLimits
    /// ISO 4217 code of `money` (three capital letters); set exactly when money is limited.
    public var currency: String?
    /// What each approval adds, per limited dimension (default: the dimension's initial limit).
    public var raise: UsageLimits
    /// Users and `group:` names who may approve more (a set, kept sorted).
    public var approvers: [Approver]
    /// Whether the run's requester may approve more for their own run.
    public var allowSelfApproval: Bool

    public init(
        limits: UsageLimits, currency: String? = nil, raise: UsageLimits? = nil, approvers: [Approver],
        allowSelfApproval: Bool = false
    ) {
        self.limits = limits
        self.currency = currency
        var raised = limits
        for dimension in limits.dimensions { raised[dimension] = raise?[dimension] ?? limits[dimension] }
        self.raise = raised
        self.approvers = approvers.sorted()
        self.allowSelfApproval = allowSelfApproval
    }
}
