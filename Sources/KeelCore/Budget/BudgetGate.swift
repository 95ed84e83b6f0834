/// A run held before a step because its budget is used up: the approval that may raise the limit.
///
/// Opened by the reducer (`budget.gate_opened`) when a step that costs (`run`, `http`, `ssh`, `flow`, or
/// an element of a mapped step) would begin while usage has reached a limit. Its approval id,
/// `<run>:budget:<number>`, can never be taken for a step's own approval (`<run>:<step>:<attempt>:approval`).
public struct BudgetGate: Sendable, Hashable {
    /// 1 for the run's first gate, then +1 for each.
    public var number: Int
    public var approvalID: String
    /// The step that would have started first; it and every other step that costs wait for the decision.
    public var step: String
    /// What approvers read: "used 1.9M of 2M tokens: approve 1M more?".
    public var summary: String
    /// The run's usage and limits when the gate opened.
    public var used: Usage
    public var limits: UsageLimits

    public init(
        number: Int, approvalID: String, step: String, summary: String, used: Usage, limits: UsageLimits
    ) {
        self.number = number
        self.approvalID = approvalID
        self.step = step
        self.summary = summary
        self.used = used
        self.limits = limits
    }

    /// `<run>:budget:<number>`.
    public static func approvalID(run: String, number: Int) -> String { "\(run):budget:\(number)" }

    /// The run a gate's approval id names; nil for any other text, an attempt's approval id among them.
    public static func run(ofApprovalID text: String) -> RunID? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let run = RunID(String(parts[0])), let number = Int(parts[2]), number > 0,
            approvalID(run: run.description, number: number) == text
        else { return nil }
        return run
    }

    /// The approvers' question: each exhausted dimension's spend against its limit, then what approving
    /// adds. Money is written in the budget's currency.
    public static func summary(
        used: Usage, limits: UsageLimits, raise: UsageLimits, currency: String?
    ) -> String {
        func unit(_ dimension: UsageDimension) -> String {
            dimension == .money ? (currency ?? "money") : dimension.unit
        }
        let exhausted = limits.exhausted(by: used)
        let spent = exhausted.map { dimension in
            "\(UsageAmount.text(used[dimension])) of \(UsageAmount.text(limits[dimension] ?? 0)) \(unit(dimension))"
        }
        let raised = limits.dimensions.filter { (raise[$0] ?? 0) > 0 }
        // "approve 1M more?" when the one raised dimension is the one used up; units otherwise.
        let bare = raised == exhausted && raised.count == 1
        let more = raised.map { dimension in
            let amount = UsageAmount.text(raise[dimension] ?? 0)
            return bare ? amount : "\(amount) \(unit(dimension))"
        }
        return "used \(spent.joined(separator: " and ")): approve \(more.joined(separator: " and ")) more?"
    }
}
