/// Where one step of a run stands: its latest attempt, the deadlines that bound it, its result.
public struct StepState: Sendable, Hashable {
    /// A step's lifecycle. `pending` until its needs finish; then `scheduled` → `running`, or
    /// `waiting` (on a callback or a decision); `retrying` between attempts; the rest are final until
    /// a retry from an earlier step resets it.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending
        case scheduled
        case running
        case waiting
        case retrying
        case succeeded
        case partial
        case failed
        case timedOut = "timed_out"
        case skipped
        case cancelled

        /// The step will do nothing more (unless the run is retried from it or an earlier step).
        public var isFinal: Bool {
            switch self {
            case .succeeded, .partial, .failed, .timedOut, .skipped, .cancelled: true
            case .pending, .scheduled, .running, .waiting, .retrying: false
            }
        }

        /// Finished without failing: dependents run.
        public var isSuccess: Bool { self == .succeeded || self == .partial }

        /// Finished by failing: dependents are skipped unless their `if:` looks at statuses.
        public var isFailure: Bool { self == .failed || self == .timedOut }

        /// As `steps.<id>.status` spells it.
        public var contextStatus: StepContext.Status {
            switch self {
            case .pending, .scheduled, .retrying: .pending
            case .running, .waiting: .running
            case .succeeded: .succeeded
            case .partial: .partial
            case .failed: .failed
            case .timedOut: .timedOut
            case .skipped: .skipped
            case .cancelled: .cancelled
            }
        }
    }

    public internal(set) var status: Status = .pending
    /// The latest attempt's number; 0 before the first. Never goes down, also across retries from a step.
    public internal(set) var attempt = 0
    /// The first attempt of the current round (a round starts anew on a retry from a step), for
    /// counting `max_attempts` and naming the step timeout.
    public internal(set) var roundStart = 1
    /// The step `timeout` of the current round, set when its first attempt begins.
    public internal(set) var deadline: Timestamp?
    public internal(set) var queueDeadline: Timestamp?
    /// The attempt a pending retry will start, and when.
    public internal(set) var retryAttempt: Int?
    public internal(set) var retryDue: Timestamp?
    public internal(set) var waitID: String?
    public internal(set) var waitDeadline: Timestamp?
    public internal(set) var heartbeatInterval: FlowDuration?
    public internal(set) var heartbeatDue: Timestamp?
    /// Heartbeats received by the open wait; names the heartbeat timer so a re-armed one is new.
    public internal(set) var heartbeats = 0
    public internal(set) var approvalID: String?
    public internal(set) var approvalDeadline: Timestamp?
    public internal(set) var reminderDue: Timestamp?
    /// The executor and lease token of the running attempt.
    public internal(set) var executor: String?
    public internal(set) var leaseToken: Int64?
    public internal(set) var outputs: JSONObject = [:]
    public internal(set) var decision: StepContext.Decision?
    public internal(set) var errorClass: ErrorClass?
    /// Why it failed, timed out, was skipped or cancelled.
    public internal(set) var message: String?
    /// `request_changes` rounds this approval step has sent back so far.
    public internal(set) var changeRounds = 0
    /// The approver's note this step's attempts carry after a change request sent the run back to it, until
    /// one succeeds; the executor hands it to the work (`KEEL_CHANGE_REQUEST`).
    public internal(set) var changeRequest: ChangeRequest?
    /// When the current attempt was scheduled, when an executor first started it, and when it began
    /// waiting for a callback or a decision: what its queue, run and wait times are measured from
    /// (`RunMetrics`). Kept after the attempt ends, until the next one begins.
    public internal(set) var scheduledAt: Timestamp?
    public internal(set) var startedAt: Timestamp?
    public internal(set) var waitingSince: Timestamp?
    /// A mapped step's list for its current attempt, one element step per item; nil before it expands.
    public internal(set) var mapItems: [JSONValue]?
    /// The highest attempt any element of this mapped step has had: a later expansion numbers its
    /// elements' attempts after it, so no element attempt's idempotency key ever repeats.
    public internal(set) var elementAttempts = 0

    public init() {}

    /// Back to `pending` for a new round; the attempt counter and change rounds are kept.
    mutating func reset() {
        let kept = (attempt, changeRounds, elementAttempts)
        self = StepState()
        (attempt, changeRounds, elementAttempts) = kept
        roundStart = attempt + 1
    }

    /// Forgets what belonged to the attempt that just ended.
    mutating func endAttempt() {
        queueDeadline = nil
        retryAttempt = nil
        retryDue = nil
        waitID = nil
        waitDeadline = nil
        heartbeatInterval = nil
        heartbeatDue = nil
        heartbeats = 0
        approvalID = nil
        approvalDeadline = nil
        reminderDue = nil
        executor = nil
        leaseToken = nil
    }
}
