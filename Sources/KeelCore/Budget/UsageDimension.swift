/// One thing a run spends and a budget can limit.
public enum UsageDimension: String, Sendable, Hashable, CaseIterable {
    /// Model tokens, as the step reports them.
    case tokens
    /// Wall time of `run` and `ssh` attempts (measured by the executor), and what steps report.
    case machineMinutes = "machine_minutes"
    /// Money in the budget's currency, as the step reports it.
    case money

    /// How people read the dimension in a sentence ("used 3 of 2 machine minutes").
    public var unit: String {
        switch self {
        case .tokens: "tokens"
        case .machineMinutes: "machine minutes"
        case .money: "money"
        }
    }
}
