public import KeelCore

/// An attempt an executor holds: its identity, the fencing token of its lease, and the run's state at
/// the claim (what the step's templates are rendered from).
public struct ClaimedAttempt: Sendable {
    public var dispatch: StepDispatch
    public var executor: String
    /// Grows with every claim of the attempt; results and heartbeats carrying an older one are refused.
    public var leaseToken: Int64
    public var state: RunState
    /// A moment no later than the start of the lease in the database (taken before the claim was sent),
    /// so the executor can tell, by its own clock, when the lease has surely passed.
    public var leaseFrom: ContinuousClock.Instant = .now
}

/// What an executor reports when an attempt's work ended.
public enum AttemptResult: Sendable, Hashable {
    case succeeded(outputs: JSONObject)
    case failed(ErrorClass, message: String)
}

/// What became of a result.
public enum AttemptCompletion: Sendable, Hashable {
    /// Recorded, and the run advanced.
    case recorded
    /// The lease was lost (expired and taken over, or the attempt was stopped): the result is dropped.
    case refused
}
