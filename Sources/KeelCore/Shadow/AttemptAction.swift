/// One decision of a run that starts work: an attempt dispatched, a wait step's wait opened, an approval
/// requested or a child run asked for. The shadow compares a recorded run and its shadow key by key.
public struct AttemptAction: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case dispatch
        case wait
        case approval
        case subflow
    }

    /// The step or map element (`apply[3]`).
    public var step: String
    public var attempt: Int
    public var phase: Phase

    public init(step: String, attempt: Int, phase: Phase) {
        self.step = step
        self.attempt = attempt
        self.phase = phase
    }

    /// The flow step the action belongs to: the step itself, or the mapped step of an element.
    public var flowStep: String { MapElement.parse(step)?.step ?? step }
}
