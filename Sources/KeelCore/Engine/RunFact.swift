/// One entry of a run's append-only history.
///
/// Facts from the world (a trigger, an executor's result, a fired timer, a person's decision) are
/// handed to `RunReducer.reduce`; the facts the reducer derives from them (scheduled, skipped, retry
/// scheduled, timed out, cancelled, finished, ...) are appended right after, marked `derived`. The
/// run's state is the fold of the whole list (`RunState.apply`). The JSON shape is documented in
/// docs/history.md.
public struct RunFact: Sendable, Hashable {
    /// When it happened, as its producer saw it; derived facts carry the time of the fact that caused them.
    public var at: Timestamp
    public var event: Event
    /// True for the reducer's own decisions; false for facts from the world.
    public var derived: Bool

    public init(at: Timestamp, event: Event, derived: Bool = false) {
        self.at = at
        self.event = event
        self.derived = derived
    }

    /// What happened.
    public enum Event: Sendable, Hashable {
        /// A trigger was accepted and became this run (trigger-intake).
        case runTriggered(RunTrigger)
        /// An attempt was handed to the executors' queue (derived).
        case stepScheduled(ScheduledAttempt)
        /// An executor claimed the attempt with a lease (step-executor); again, with a greater
        /// `leaseToken`, when another executor takes over an attempt whose lease expired.
        case stepStarted(step: String, attempt: Int, executor: String, leaseToken: Int64)
        case stepSucceeded(step: String, attempt: Int, outputs: JSONObject)
        /// An attempt failed; also derived, with attempt 0, when a step's `if:` or keys cannot be evaluated.
        case stepFailed(step: String, attempt: Int, errorClass: ErrorClass, message: String)
        /// `attempt` is the attempt that will start at `dueAt` (derived).
        case stepRetryScheduled(step: String, attempt: Int, delay: FlowDuration, dueAt: Timestamp)
        /// The step will not run (derived).
        case stepSkipped(step: String, reason: String)
        /// A mapped step's `map.over` gave `items`: attempt `attempt` of the step runs one element per item,
        /// each a step of its own named `<step>[<index>]` (derived).
        case mapExpanded(step: String, attempt: Int, items: [JSONValue])
        /// A deadline passed (derived from a fired timer).
        case stepTimedOut(step: String, attempt: Int, timeout: TimeoutKind)
        /// The run was cancelled while the step had not finished (derived).
        case stepCancelled(step: String, attempt: Int, reason: String)
        /// A timer the reducer asked for came due (the timer sweeper).
        case timerFired(timerID: String)
        case runCancelRequested(actor: String?, reason: String)
        /// `keel run retry RUN --from STEP` on a finished run; `pass` is the run's pass being retried
        /// (`RunState.pass`), so a repeated request cannot restart the run a second time.
        case runRetryRequested(fromStep: String, pass: Int, actor: String?)
        /// The step now waits for a callback (derived).
        case waitOpened(step: String, attempt: Int, waitID: String)
        /// A `flow` step asked for its child run and now waits on `request.waitID` for the child's
        /// outcome, which arrives as `callback.received` (derived).
        case subflowStarted(SubflowRequest)
        /// A verified callback for an open wait (callback-gateway).
        case callbackReceived(step: String, waitID: String, status: CallbackStatus, output: JSONValue)
        /// The step now waits for a decision (derived).
        case approvalRequested(ApprovalRequest)
        /// The gate's decision (approval-service); derived when its timeout decides for it.
        case approvalDecided(
            step: String, approvalID: String, decision: StepContext.Decision, actor: String?, note: String?)
        /// The run is over (derived).
        case runFinished(outcome: RunOutcome, reason: String?)
        /// What an attempt spent (the executor with the attempt's result, the callback-gateway with a
        /// callback), recorded right before that result in the same transaction.
        case usageRecorded(step: String, attempt: Int, usage: Usage)
        /// The run's usage reached a limit of its budget as a step would begin: it waits for approvers (derived).
        case budgetGateOpened(BudgetGate)
        /// The budget gate `gate` was approved: the limits are now `limits` (derived).
        case budgetRaised(gate: Int, limits: UsageLimits)
    }
}

/// What a trigger brought: the run's identity and input.
public struct RunTrigger: Sendable, Hashable {
    public var runID: RunID
    public var flow: String
    public var version: Int
    /// Already validated against the flow's input schema.
    public var input: JSONValue
    /// Who the trigger says triggered the run: a claim, for information only; nil for a schedule.
    public var actor: String?
    /// Who triggered the run as Keel authenticated them (for AMQP, the broker-validated `user-id`
    /// mapped to a principal); nil when the publisher was not authenticated. Separation of duties
    /// compares approvers with this, never with `actor`.
    public var requester: String?
    public var correlationID: String
    public var idempotencyKey: String
    /// The queue that gets the run's outcome.
    public var replyTo: String?
    /// The W3C `traceparent` the run's trace started from (the trigger's, or a new one); every message and
    /// callback of the run carries this trace.
    public var traceparent: String?
    /// The run whose `flow` step started this one, when one did: it gets this run's outcome.
    public var parent: RunParent?

    public init(
        runID: RunID, flow: String, version: Int, input: JSONValue, actor: String? = nil,
        requester: String? = nil, correlationID: String,
        idempotencyKey: String, replyTo: String? = nil, traceparent: String? = nil, parent: RunParent? = nil
    ) {
        self.parent = parent
        self.requester = requester
        self.runID = runID
        self.flow = flow
        self.version = version
        self.input = input
        self.actor = actor
        self.correlationID = correlationID
        self.idempotencyKey = idempotencyKey
        self.replyTo = replyTo
        self.traceparent = traceparent
    }
}

/// Where a child run came from: the parent run, its `flow` step, and the wait that step holds.
public struct RunParent: Sendable, Hashable, Codable {
    public var runID: RunID
    public var step: String
    public var waitID: String

    public init(runID: RunID, step: String, waitID: String) {
        self.runID = runID
        self.step = step
        self.waitID = waitID
    }

    private enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case step
        case waitID = "wait_id"
    }
}

/// An attempt as handed to the executors: the `step.scheduled` fact and the dispatch command.
public struct ScheduledAttempt: Sendable, Hashable {
    public var step: String
    public var attempt: Int
    /// Stable for (run, step, attempt), handed to the work so side effects can detect a repeat.
    public var idempotencyKey: String
    /// The step's `runs_on` labels (a sorted set); empty for any worker.
    public var runsOn: [String]
    /// The flow's evaluated `shard_key`, or the run id.
    public var shardKey: String
    /// Evaluated flow and step concurrency keys; the store counts the slots.
    public var concurrency: [ConcurrencyClaim]
    /// Set when an approver's `request_changes` sent the run back to this step.
    public var changeRequest: ChangeRequest?

    public init(
        step: String, attempt: Int, idempotencyKey: String, runsOn: [String], shardKey: String,
        concurrency: [ConcurrencyClaim], changeRequest: ChangeRequest? = nil
    ) {
        self.step = step
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.runsOn = runsOn
        self.shardKey = shardKey
        self.concurrency = concurrency
        self.changeRequest = changeRequest
    }
}

/// One concurrency limit an attempt counts against: at most `limit` holders of (`scope`, `key`).
public struct ConcurrencyClaim: Sendable, Hashable {
    public enum Scope: String, Sendable, Hashable, CaseIterable {
        /// The flow's `concurrency`: counted per flow.
        case flow
        /// The step's `concurrency`: counted per (flow, step).
        case step
    }

    public var scope: Scope
    /// The evaluated key template, as text.
    public var key: String
    public var limit: Int

    public init(scope: Scope, key: String, limit: Int) {
        self.scope = scope
        self.key = key
        self.limit = limit
    }
}

/// An approver's note sending the run back to an earlier step.
public struct ChangeRequest: Sendable, Hashable {
    public var note: String?
    public var actor: String?
    /// 1 for the first round of changes.
    public var round: Int

    public init(note: String?, actor: String?, round: Int) {
        self.note = note
        self.actor = actor
        self.round = round
    }
}

/// What approvers are asked: the gate's rendered summary and bound artifacts.
public struct ApprovalRequest: Sendable, Hashable {
    public var step: String
    public var attempt: Int
    public var approvalID: String
    /// The gate's `summary` template, rendered.
    public var summary: String?
    /// The gate's `bind` templates, evaluated: what an approval covers.
    public var bound: [JSONValue]

    public init(step: String, attempt: Int, approvalID: String, summary: String?, bound: [JSONValue]) {
        self.step = step
        self.attempt = attempt
        self.approvalID = approvalID
        self.summary = summary
        self.bound = bound
    }
}

/// Which deadline passed.
public enum TimeoutKind: String, Sendable, Hashable, CaseIterable {
    /// The step's `timeout`: all attempts and delays; never retried.
    case step
    /// The step's `queue_timeout`: no executor started the attempt in time.
    case queue
    /// The wait's `timeout`.
    case wait
    /// No heartbeat within the wait's `heartbeat` interval.
    case heartbeat
    /// The approval's `timeout` with `on_timeout: fail`.
    case approval
}

/// A callback's verdict on the job it reports.
public enum CallbackStatus: String, Sendable, Hashable, CaseIterable {
    case succeeded
    /// Finished with part of the work done; the step's status becomes `partial`.
    case partial
    case failed
    /// Still alive: extends the heartbeat deadline.
    case heartbeat
}

/// How a run ended.
public enum RunOutcome: String, Sendable, Hashable, CaseIterable {
    case succeeded
    case failed
    case cancelled
}

extension RunFact.Event {
    /// The history `kind`: `run.triggered`, `step.scheduled`, ...
    public var kind: String {
        switch self {
        case .runTriggered: "run.triggered"
        case .stepScheduled: "step.scheduled"
        case .stepStarted: "step.started"
        case .stepSucceeded: "step.succeeded"
        case .stepFailed: "step.failed"
        case .stepRetryScheduled: "step.retry_scheduled"
        case .stepSkipped: "step.skipped"
        case .mapExpanded: "map.expanded"
        case .stepTimedOut: "step.timed_out"
        case .stepCancelled: "step.cancelled"
        case .timerFired: "timer.fired"
        case .runCancelRequested: "run.cancel_requested"
        case .runRetryRequested: "run.retry_requested"
        case .waitOpened: "wait.opened"
        case .subflowStarted: "subflow.started"
        case .callbackReceived: "callback.received"
        case .approvalRequested: "approval.requested"
        case .approvalDecided: "approval.decided"
        case .runFinished: "run.finished"
        case .usageRecorded: "usage.recorded"
        case .budgetGateOpened: "budget.gate_opened"
        case .budgetRaised: "budget.raised"
        }
    }

    /// The step the fact is about (the `run_history.step` column).
    public var step: String? {
        switch self {
        case .stepScheduled(let scheduled): scheduled.step
        case .approvalRequested(let request): request.step
        case .subflowStarted(let request): request.step
        case .stepStarted(let step, _, _, _), .stepSucceeded(let step, _, _), .stepFailed(let step, _, _, _),
            .stepRetryScheduled(let step, _, _, _), .stepSkipped(let step, _), .stepTimedOut(let step, _, _),
            .stepCancelled(let step, _, _), .waitOpened(let step, _, _), .callbackReceived(let step, _, _, _),
            .mapExpanded(let step, _, _),
            .approvalDecided(let step, _, _, _, _):
            step
        case .runRetryRequested(let step, _, _): step
        case .usageRecorded(let step, _, _): step
        case .budgetGateOpened(let gate): gate.step
        case .runTriggered, .timerFired, .runCancelRequested, .runFinished, .budgetRaised: nil
        }
    }

    /// The attempt the fact is about (the `run_history.attempt` column).
    public var attempt: Int? {
        switch self {
        case .stepScheduled(let scheduled): scheduled.attempt
        case .approvalRequested(let request): request.attempt
        case .subflowStarted(let request): request.attempt
        case .stepStarted(_, let attempt, _, _), .stepSucceeded(_, let attempt, _),
            .stepFailed(_, let attempt, _, _),
            .stepRetryScheduled(_, let attempt, _, _), .stepTimedOut(_, let attempt, _),
            .stepCancelled(_, let attempt, _), .waitOpened(_, let attempt, _),
            .mapExpanded(_, let attempt, _), .usageRecorded(_, let attempt, _):
            attempt
        default: nil
        }
    }

    /// The error class (the `run_history.error_class` column).
    public var errorClass: ErrorClass? {
        switch self {
        case .stepFailed(_, _, let errorClass, _): errorClass
        case .stepTimedOut: .timeout
        case .stepCancelled: .cancelled
        default: nil
        }
    }

    /// Who caused the fact, when a person did (the `run_history.actor` column).
    public var actor: String? {
        switch self {
        case .runTriggered(let trigger): trigger.actor
        case .runCancelRequested(let actor, _), .runRetryRequested(_, _, let actor),
            .approvalDecided(_, _, _, let actor, _):
            actor
        default: nil
        }
    }
}
