/// A run's state as JSON, for `runs.state`: what replaying its history gives, so a service can load a
/// run without replaying it. The flow is not in it (the run's version is); `RunSnapshot.state(flow:)`
/// puts the two together again. History stays the truth: a snapshot can always be rebuilt by replay.
public struct RunSnapshot: Sendable, Hashable, Codable {
    var status: String
    var trigger: TriggerSnapshot?
    var outcome: String?
    var finishReason: String?
    var runDeadline: Timestamp?
    var pass: Int
    var cancelReason: String?
    var steps: [String: StepSnapshot]
    /// The budget's sums, limits and open gate; absent in snapshots written before budgets.
    var usage: JSONValue?
    var budgetLimits: JSONValue?
    var budgetGate: BudgetGateSnapshot?
    var budgetGates: Int?

    private enum CodingKeys: String, CodingKey {
        case usage
        case budgetLimits = "budget_limits"
        case budgetGate = "budget_gate"
        case budgetGates = "budget_gates"
        case status, trigger, outcome
        case finishReason = "finish_reason"
        case runDeadline = "run_deadline"
        case pass
        case cancelReason = "cancel_reason"
        case steps
    }

    public init(_ state: RunState) {
        status = state.status.rawValue
        trigger = state.trigger.map(TriggerSnapshot.init)
        outcome = state.outcome?.rawValue
        finishReason = state.finishReason
        runDeadline = state.runDeadline
        pass = state.pass
        cancelReason = state.cancelReason
        steps = state.steps.mapValues(StepSnapshot.init)
        // `JSONValue?.none`, not `nil`: JSONValue is itself nil-expressible, and a bare `nil` here would be
        // `.null`, which no usage reads as.
        usage = state.usage.isZero ? JSONValue?.none : state.usage.jsonValue
        budgetLimits = state.budgetLimits?.jsonValue
        budgetGate = state.budgetGate.map(BudgetGateSnapshot.init)
        budgetGates = state.budgetGates == 0 ? nil : state.budgetGates
    }

    /// The state this snapshot records, for a run of `flow`; nil when the snapshot does not fit the flow
    /// (another version's steps) or holds unknown values: replay the history instead.
    public func state(flow: FlowDefinition) -> RunState? {
        var state = RunState(flow: flow)
        // Beside the flow's steps, a snapshot holds the elements of its mapped steps.
        let stepIDs = Set(
            steps.keys.filter { id in
                guard let element = MapElement.parse(id) else { return true }
                return flow.step(element.step)?.map == nil
            })
        guard let status = RunState.Status(rawValue: status), stepIDs == Set(state.steps.keys) else {
            return nil
        }
        state.status = status
        state.trigger = trigger?.trigger
        if let outcome {
            guard let value = RunOutcome(rawValue: outcome) else { return nil }
            state.outcome = value
        }
        state.finishReason = finishReason
        state.runDeadline = runDeadline
        state.pass = pass
        state.cancelReason = cancelReason
        if let usage, !usage.isNull {
            guard let sums = try? Usage(json: usage, field: "usage") else { return nil }
            state.usage = sums
        }
        state.budgetLimits = budgetLimits.map(UsageLimits.init(json:))
        state.budgetGate = budgetGate?.gate
        state.budgetGates = budgetGates ?? 0
        for (id, snapshot) in steps {
            guard let step = snapshot.step else { return nil }
            state.steps[id] = step
        }
        return state
    }
}

struct TriggerSnapshot: Sendable, Hashable, Codable {
    var runID: RunID
    var flow: String
    var version: Int
    var input: JSONValue
    var actor: String?
    var requester: String?
    var correlationID: String
    var idempotencyKey: String
    var replyTo: String?
    var traceparent: String?
    var parent: RunParent?

    private enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case flow, version, input, actor, requester
        case correlationID = "correlation_id"
        case idempotencyKey = "idempotency_key"
        case replyTo = "reply_to"
        case traceparent, parent
    }

    init(_ trigger: RunTrigger) {
        runID = trigger.runID
        flow = trigger.flow
        version = trigger.version
        input = trigger.input
        actor = trigger.actor
        requester = trigger.requester
        correlationID = trigger.correlationID
        idempotencyKey = trigger.idempotencyKey
        replyTo = trigger.replyTo
        traceparent = trigger.traceparent
        parent = trigger.parent
    }

    var trigger: RunTrigger {
        RunTrigger(
            runID: runID, flow: flow, version: version, input: input, actor: actor, requester: requester,
            correlationID: correlationID,
            idempotencyKey: idempotencyKey, replyTo: replyTo, traceparent: traceparent, parent: parent)
    }
}

struct StepSnapshot: Sendable, Hashable, Codable {
    var status: String
    var attempt: Int
    var roundStart: Int
    var deadline: Timestamp?
    var queueDeadline: Timestamp?
    var retryAttempt: Int?
    var retryDue: Timestamp?
    var waitID: String?
    var waitDeadline: Timestamp?
    var heartbeatInterval: FlowDuration?
    var heartbeatDue: Timestamp?
    var heartbeats: Int
    var approvalID: String?
    var approvalDeadline: Timestamp?
    var reminderDue: Timestamp?
    var executor: String?
    var leaseToken: Int64?
    var outputs: JSONValue
    var decision: String?
    var errorClass: String?
    var message: String?
    var changeRounds: Int
    var changeRequest: ChangeRequest?
    var scheduledAt: Timestamp?
    var startedAt: Timestamp?
    var waitingSince: Timestamp?
    var mapItems: [JSONValue]?
    var elementAttempts: Int?

    private enum CodingKeys: String, CodingKey {
        case status, attempt
        case roundStart = "round_start"
        case deadline
        case queueDeadline = "queue_deadline"
        case retryAttempt = "retry_attempt"
        case retryDue = "retry_due"
        case waitID = "wait_id"
        case waitDeadline = "wait_deadline"
        case heartbeatInterval = "heartbeat_interval"
        case heartbeatDue = "heartbeat_due"
        case heartbeats
        case approvalID = "approval_id"
        case approvalDeadline = "approval_deadline"
        case reminderDue = "reminder_due"
        case executor
        case leaseToken = "lease_token"
        case outputs, decision
        case errorClass = "error_class"
        case message
        case changeRounds = "change_rounds"
        case changeRequest = "change_request"
        case scheduledAt = "scheduled_at"
        case startedAt = "started_at"
        case waitingSince = "waiting_since"
        case mapItems = "map_items"
        case elementAttempts = "element_attempts"
    }

    init(_ step: StepState) {
        status = step.status.rawValue
        attempt = step.attempt
        roundStart = step.roundStart
        deadline = step.deadline
        queueDeadline = step.queueDeadline
        retryAttempt = step.retryAttempt
        retryDue = step.retryDue
        waitID = step.waitID
        waitDeadline = step.waitDeadline
        heartbeatInterval = step.heartbeatInterval
        heartbeatDue = step.heartbeatDue
        heartbeats = step.heartbeats
        approvalID = step.approvalID
        approvalDeadline = step.approvalDeadline
        reminderDue = step.reminderDue
        executor = step.executor
        leaseToken = step.leaseToken
        outputs = .object(step.outputs)
        decision = step.decision?.rawValue
        errorClass = step.errorClass?.rawValue
        message = step.message
        changeRounds = step.changeRounds
        changeRequest = step.changeRequest
        scheduledAt = step.scheduledAt
        startedAt = step.startedAt
        waitingSince = step.waitingSince
        mapItems = step.mapItems
        elementAttempts = step.elementAttempts == 0 ? nil : step.elementAttempts
    }

    /// Nil when a value is unknown.
    var step: StepState? {
        guard let status = StepState.Status(rawValue: status), case .object(let outputs) = outputs else {
            return nil
        }
        var step = StepState()
        step.status = status
        step.attempt = attempt
        step.roundStart = roundStart
        step.deadline = deadline
        step.queueDeadline = queueDeadline
        step.retryAttempt = retryAttempt
        step.retryDue = retryDue
        step.waitID = waitID
        step.waitDeadline = waitDeadline
        step.heartbeatInterval = heartbeatInterval
        step.heartbeatDue = heartbeatDue
        step.heartbeats = heartbeats
        step.approvalID = approvalID
        step.approvalDeadline = approvalDeadline
        step.reminderDue = reminderDue
        step.executor = executor
        step.leaseToken = leaseToken
        step.outputs = outputs
        if let decision {
            guard let value = StepContext.Decision(rawValue: decision) else { return nil }
            step.decision = value
        }
        if let errorClass {
            guard let value = ErrorClass(rawValue: errorClass) else { return nil }
            step.errorClass = value
        }
        step.message = message
        step.changeRounds = changeRounds
        step.changeRequest = changeRequest
        step.scheduledAt = scheduledAt
        step.startedAt = startedAt
        step.waitingSince = waitingSince
        step.mapItems = mapItems
        step.elementAttempts = elementAttempts ?? 0
        return step
    }
}

/// An open budget gate in a snapshot.
struct BudgetGateSnapshot: Sendable, Hashable, Codable {
    var number: Int
    var approvalID: String
    var step: String
    var summary: String
    var used: JSONValue
    var limits: JSONValue

    private enum CodingKeys: String, CodingKey {
        case number
        case approvalID = "approval_id"
        case step, summary, used, limits
    }

    init(_ gate: BudgetGate) {
        number = gate.number
        approvalID = gate.approvalID
        step = gate.step
        summary = gate.summary
        used = gate.used.jsonValue
        limits = gate.limits.jsonValue
    }

    var gate: BudgetGate {
        BudgetGate(
            number: number, approvalID: approvalID, step: step, summary: summary,
            used: (try? Usage(json: used, field: "used")) ?? .zero, limits: UsageLimits(json: limits))
    }
}
