public import KeelCore

/// A timer a sweep fired, for the sweeper's log line: which timer, what the run had armed it for, and
/// the run it advanced.
public struct FiredTimer: Sendable, Hashable {
    public var id: String
    /// What the run had armed it for; nil when the run no longer had it armed (its fact was ignored).
    public var purpose: RunTimer.Purpose?
    /// The run's identity; nil only for a run whose state has no trigger, which no stored run lacks.
    public var run: RunLogContext?

    public init(id: String, purpose: RunTimer.Purpose?, run: RunLogContext?) {
        self.id = id
        self.purpose = purpose
        self.run = run
    }

    /// The purpose in the words of the timer ids: `retry`, `approval-timeout`, ...; `disarmed` when the run
    /// no longer had it.
    public var kind: String { purpose?.name ?? "disarmed" }

    /// The run's identity with the step and attempt the timer was for (a step timeout names the step only;
    /// a run timeout neither).
    public var logContext: RunLogContext? {
        guard var context = run else { return nil }
        switch purpose {
        case .stepTimeout(let step): context.step = step
        case .queueTimeout(let step, let attempt), .retry(let step, let attempt),
            .waitTimeout(let step, let attempt), .heartbeat(let step, let attempt),
            .approvalTimeout(let step, let attempt), .approvalReminder(let step, let attempt):
            context = context.attempt(attempt, of: step)
        case .runTimeout, nil: break
        }
        return context
    }
}
