/// Why a run failed when no step's failure says it: the prefix of `run.finished`'s `reason`.
public enum RunFailure: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A budget gate was rejected: the run may spend no more (`budget_exceeded: more budget was refused by bob`).
    case budgetExceeded = "budget_exceeded"

    public var description: String { rawValue }

    /// The failure a `run.finished` reason names, if any.
    public init?(reason: String?) {
        guard let reason else { return nil }
        self.init(rawValue: String(reason.prefix { $0 != ":" }))
    }
}
