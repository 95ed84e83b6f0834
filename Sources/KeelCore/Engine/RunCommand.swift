/// Something the caller must do because of a transition: in the same database transaction as the
/// facts, or through the outbox. A transition's commands are carried out together; their order
/// carries no meaning.
public enum RunCommand: Sendable, Hashable {
    /// Queue the attempt for an executor (`keel.steps.<pool>.<shard>`), after its concurrency slots.
    case dispatch(ScheduledAttempt)
    /// Tell whoever holds the attempt to stop it (kill the process, reap the remote job, drop it from the
    /// queue); its result, if one still comes, will be ignored.
    case stopAttempt(step: String, attempt: Int, idempotencyKey: String, reason: String)
    /// Arm a durable timer that reports `timer.fired` with its id when due.
    case startTimer(RunTimer)
    /// Disarm a timer; one that already fired is ignored by the reducer anyway.
    case cancelTimer(id: String)
    /// Open a callback wait: its `waits` row, whose `wait.schema` judges callbacks (the step-executor
    /// mints the token, for the deterministic `AttemptID.waitID`).
    case openWait(step: String, attempt: Int, waitID: String, timeoutAt: Timestamp, heartbeatAt: Timestamp?)
    /// The wait is over (answered, timed out or cancelled): later callbacks get its stored outcome.
    case closeWait(waitID: String)
    /// Ask the gate's approvers (the rules are the step's `approval` in the flow version).
    case requestApproval(ApprovalRequest, requester: String?, timeoutAt: Timestamp?, reminderAt: Timestamp?)
    /// The approval is decided or void: no further decision is accepted.
    case closeApproval(approvalID: String)
    /// Publish an event on `keel.events` (`run.succeeded.<flow>`, `step.failed.<flow>.<step>`, ...).
    case publish(routingKey: String, body: JSONValue)
    /// Ask trigger-intake for the child run of a `flow` step (a trigger on `keel.triggers` naming the
    /// parent's wait); the parent step waits on `request.waitID` for the child's outcome.
    case startSubflow(SubflowRequest)
    /// Mark the run finished and, when the trigger had a `reply_to`, send it the outcome.
    case finishRun(outcome: RunOutcome, replyTo: String?)
}

/// What one external fact did to a run.
public struct RunTransition: Sendable, Hashable {
    /// The state after the fact and every derived fact.
    public var state: RunState
    /// The reducer's decisions, to append to the history right after the fact, in this order.
    public var derived: [RunFact]
    public var commands: [RunCommand]
    /// True when the fact changed nothing (a duplicate, a late result, a disarmed timer, anything after
    /// the run finished): the caller need not record it, and folding it later changes nothing either.
    public var ignored: Bool

    public init(state: RunState, derived: [RunFact], commands: [RunCommand], ignored: Bool) {
        self.state = state
        self.derived = derived
        self.commands = commands
        self.ignored = ignored
    }
}
