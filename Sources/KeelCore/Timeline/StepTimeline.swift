/// One step of a run: where it stands and every attempt it made, across passes of the run.
public struct StepTimeline: Sendable, Hashable {
    public var id: String
    /// `run`, `http`, `ssh`, `wait`, `approval` or `noop`.
    public var kind: String
    public var needs: [String]
    public var status: StepState.Status
    public var errorClass: ErrorClass?
    /// Why it failed, timed out, was skipped or cancelled (as the engine's state says).
    public var message: String?
    /// Oldest first; attempt numbers only grow, also across passes.
    public var attempts: [AttemptTimeline]
    /// What the step's attempts spent, across passes.
    public var usage = Usage.zero

    /// The reason the step will not run, when it is skipped.
    public var skipReason: String? {
        status == .skipped ? message : nil
    }
}

/// One attempt of a step: when it was handed out, picked up and finished, and how it ended.
///
/// `run`, `http`, `ssh` and `noop` attempts are scheduled, then started by an executor; `wait` and
/// `approval` attempts begin when the wait opens or approval is requested. An `ssh` step with `wait`
/// has both: its command runs, then the wait opens on the same attempt.
public struct AttemptTimeline: Sendable, Hashable {
    /// How an attempt ended.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case succeeded
        case partial
        case failed
        case timedOut = "timed_out"
        case cancelled
        /// An approver sent the run back to an earlier step (`request_changes`).
        case changesRequested = "changes_requested"
    }

    public var attempt: Int
    /// The run's pass the attempt belongs to.
    public var pass: Int
    /// When it began: dispatched to the executors, or its wait opened, or approval requested.
    public var scheduledAt: Timestamp
    /// When an executor first claimed it.
    public var startedAt: Timestamp?
    /// The executor holding it last.
    public var executor: String?
    /// How many times an executor claimed it: more than 1 when an expired lease was taken over.
    public var claims = 0
    public var finishedAt: Timestamp?
    public var outcome: Outcome?
    public var errorClass: ErrorClass?
    public var message: String?
    /// The deadline that ended it, when one did.
    public var timeout: TimeoutKind?
    /// The engine's decision to try again after this attempt.
    public var retry: RetryDecision?
    /// What it produced (an executor's outputs, a callback's output, an approval's decision).
    public var outputs: JSONObject = [:]
    /// Resource references found in `outputs`, sorted.
    public var resources: [ResourceReference] = []
    public var wait: Wait?
    public var approval: Approval?
    /// The approver's note when a `request_changes` sent the run back to this step.
    public var changeRequest: ChangeRequest?

    /// `startedAt − scheduledAt`: how long it sat in the queue.
    public var queueMilliseconds: Int64? {
        startedAt.map { $0.millisecondsSinceEpoch - scheduledAt.millisecondsSinceEpoch }
    }

    /// From the executor's start (or the wait's opening, the approval's request) to the end.
    public var durationMilliseconds: Int64? {
        guard let finishedAt, let begin = startedAt ?? wait?.openedAt ?? approval?.requestedAt else {
            return nil
        }
        return finishedAt.millisecondsSinceEpoch - begin.millisecondsSinceEpoch
    }

    /// Whether it is still scheduled, running or waiting.
    public var isInFlight: Bool { finishedAt == nil }

    /// `step.retry_scheduled`: attempt `attempt` starts at `dueAt`.
    public struct RetryDecision: Sendable, Hashable {
        public var attempt: Int
        public var delay: FlowDuration
        public var dueAt: Timestamp
    }

    /// A callback wait and what came back on it.
    public struct Wait: Sendable, Hashable {
        public var id: String
        public var openedAt: Timestamp
        public var heartbeats = 0
        public var lastHeartbeatAt: Timestamp?
        /// The callback that finished the wait.
        public var callbackAt: Timestamp?
        public var callbackStatus: CallbackStatus?
    }

    /// An approval request and its decision.
    public struct Approval: Sendable, Hashable {
        public var id: String
        public var requestedAt: Timestamp
        public var summary: String?
        public var decision: StepContext.Decision?
        /// Nil when the approval's timeout decided.
        public var actor: String?
        public var note: String?
        public var decidedAt: Timestamp?
    }
}
