/// The history JSON of docs/history.md: one flat object per fact with `kind`, `at`, `derived` (only
/// when true) and the kind's own snake_case fields. Unknown fields are ignored when reading.
extension RunFact: Codable {
    private enum Key: String, CodingKey {
        case kind, at, derived
        case runID = "run_id"
        case flow, version, input, actor, requester
        case correlationID = "correlation_id"
        case idempotencyKey = "idempotency_key"
        case replyTo = "reply_to"
        case traceparent, parent
        case step, attempt, executor, items
        case leaseToken = "lease_token"
        case outputs
        case errorClass = "error_class"
        case message, delay
        case dueAt = "due_at"
        case reason, timeout, pass
        case timerID = "timer_id"
        case fromStep = "from_step"
        case waitID = "wait_id"
        case status, output
        case approvalID = "approval_id"
        case summary, bound, decision, note, outcome
        case runsOn = "runs_on"
        case shardKey = "shard_key"
        case concurrency
        case changeRequest = "change_request"
        case usage, gate, used, limits
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let kind = try container.decode(String.self, forKey: .kind)
        let at = try container.decode(Timestamp.self, forKey: .at)
        let derived = try container.decodeIfPresent(Bool.self, forKey: .derived) ?? false
        func string(_ key: Key) throws -> String { try container.decode(String.self, forKey: key) }
        func optionalString(_ key: Key) throws -> String? {
            try container.decodeIfPresent(String.self, forKey: key)
        }
        func int(_ key: Key) throws -> Int { try container.decode(Int.self, forKey: key) }
        func raw<Value: RawRepresentable<String>>(_ type: Value.Type, _ key: Key) throws -> Value {
            let text = try container.decode(String.self, forKey: key)
            guard let value = Value(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "unknown \(key.stringValue) '\(text)'")
            }
            return value
        }
        let event: Event
        switch kind {
        case "run.triggered":
            event = .runTriggered(
                RunTrigger(
                    runID: try container.decode(RunID.self, forKey: .runID), flow: try string(.flow),
                    version: try int(.version),
                    input: try container.decode(JSONValue.self, forKey: .input),
                    actor: try optionalString(.actor), requester: try optionalString(.requester),
                    correlationID: try string(.correlationID), idempotencyKey: try string(.idempotencyKey),
                    replyTo: try optionalString(.replyTo), traceparent: try optionalString(.traceparent),
                    parent: try container.decodeIfPresent(RunParent.self, forKey: .parent)))
        case "step.scheduled":
            event = .stepScheduled(
                ScheduledAttempt(
                    step: try string(.step), attempt: try int(.attempt),
                    idempotencyKey: try string(.idempotencyKey),
                    runsOn: try container.decode([String].self, forKey: .runsOn),
                    shardKey: try string(.shardKey),
                    concurrency: try container.decode([ConcurrencyClaim].self, forKey: .concurrency),
                    changeRequest: try container.decodeIfPresent(ChangeRequest.self, forKey: .changeRequest)))
        case "step.started":
            event = .stepStarted(
                step: try string(.step), attempt: try int(.attempt), executor: try string(.executor),
                leaseToken: try container.decode(Int64.self, forKey: .leaseToken))
        case "step.succeeded":
            let outputs = try container.decode(JSONValue.self, forKey: .outputs)
            guard case .object(let object) = outputs else {
                throw DecodingError.dataCorruptedError(
                    forKey: .outputs, in: container, debugDescription: "outputs must be an object")
            }
            event = .stepSucceeded(step: try string(.step), attempt: try int(.attempt), outputs: object)
        case "step.failed":
            event = .stepFailed(
                step: try string(.step), attempt: try int(.attempt),
                errorClass: try raw(ErrorClass.self, .errorClass),
                message: try string(.message))
        case "step.retry_scheduled":
            event = .stepRetryScheduled(
                step: try string(.step), attempt: try int(.attempt),
                delay: try container.decode(FlowDuration.self, forKey: .delay),
                dueAt: try container.decode(Timestamp.self, forKey: .dueAt))
        case "step.skipped":
            event = .stepSkipped(step: try string(.step), reason: try string(.reason))
        case "map.expanded":
            event = .mapExpanded(
                step: try string(.step), attempt: try int(.attempt),
                items: try container.decode([JSONValue].self, forKey: .items))
        case "step.timed_out":
            event = .stepTimedOut(
                step: try string(.step), attempt: try int(.attempt),
                timeout: try raw(TimeoutKind.self, .timeout))
        case "step.cancelled":
            event = .stepCancelled(
                step: try string(.step), attempt: try int(.attempt), reason: try string(.reason))
        case "timer.fired":
            event = .timerFired(timerID: try string(.timerID))
        case "run.cancel_requested":
            event = .runCancelRequested(actor: try optionalString(.actor), reason: try string(.reason))
        case "run.retry_requested":
            event = .runRetryRequested(
                fromStep: try string(.fromStep), pass: try int(.pass), actor: try optionalString(.actor))
        case "wait.opened":
            event = .waitOpened(
                step: try string(.step), attempt: try int(.attempt), waitID: try string(.waitID))
        case "subflow.started":
            event = .subflowStarted(
                SubflowRequest(
                    step: try string(.step), attempt: try int(.attempt), waitID: try string(.waitID),
                    flow: try string(.flow), input: try container.decode(JSONValue.self, forKey: .input)))
        case "callback.received":
            event = .callbackReceived(
                step: try string(.step), waitID: try string(.waitID),
                status: try raw(CallbackStatus.self, .status),
                output: try container.decodeIfPresent(JSONValue.self, forKey: .output) ?? .null)
        case "approval.requested":
            event = .approvalRequested(
                ApprovalRequest(
                    step: try string(.step), attempt: try int(.attempt), approvalID: try string(.approvalID),
                    summary: try optionalString(.summary),
                    bound: try container.decodeIfPresent([JSONValue].self, forKey: .bound) ?? []))
        case "approval.decided":
            event = .approvalDecided(
                step: try string(.step), approvalID: try string(.approvalID),
                decision: try raw(StepContext.Decision.self, .decision), actor: try optionalString(.actor),
                note: try optionalString(.note))
        case "run.finished":
            event = .runFinished(
                outcome: try raw(RunOutcome.self, .outcome), reason: try optionalString(.reason))
        case "usage.recorded":
            let report = try container.decode(JSONValue.self, forKey: .usage)
            do {
                event = .usageRecorded(
                    step: try string(.step), attempt: try int(.attempt),
                    usage: try Usage(json: report, field: "usage"))
            } catch let problem as UsageProblem {
                throw DecodingError.dataCorruptedError(
                    forKey: .usage, in: container, debugDescription: problem.description)
            }
        case "budget.gate_opened":
            let used = try container.decode(JSONValue.self, forKey: .used)
            event = .budgetGateOpened(
                BudgetGate(
                    number: try int(.gate), approvalID: try string(.approvalID), step: try string(.step),
                    summary: try string(.summary), used: (try? Usage(json: used, field: "used")) ?? .zero,
                    limits: UsageLimits(json: try container.decode(JSONValue.self, forKey: .limits))))
        case "budget.raised":
            event = .budgetRaised(
                gate: try int(.gate),
                limits: UsageLimits(json: try container.decode(JSONValue.self, forKey: .limits)))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown fact kind '\(kind)'")
        }
        self.init(at: at, event: event, derived: derived)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(event.kind, forKey: .kind)
        try container.encode(at, forKey: .at)
        if derived { try container.encode(true, forKey: .derived) }
        switch event {
        case .runTriggered(let trigger):
            try container.encode(trigger.runID, forKey: .runID)
            try container.encode(trigger.flow, forKey: .flow)
            try container.encode(trigger.version, forKey: .version)
            try container.encode(trigger.input, forKey: .input)
            try container.encodeIfPresent(trigger.actor, forKey: .actor)
            try container.encodeIfPresent(trigger.requester, forKey: .requester)
            try container.encode(trigger.correlationID, forKey: .correlationID)
            try container.encode(trigger.idempotencyKey, forKey: .idempotencyKey)
            try container.encodeIfPresent(trigger.replyTo, forKey: .replyTo)
            try container.encodeIfPresent(trigger.traceparent, forKey: .traceparent)
            try container.encodeIfPresent(trigger.parent, forKey: .parent)
        case .stepScheduled(let scheduled):
            try container.encode(scheduled.step, forKey: .step)
            try container.encode(scheduled.attempt, forKey: .attempt)
            try container.encode(scheduled.idempotencyKey, forKey: .idempotencyKey)
            try container.encode(scheduled.runsOn, forKey: .runsOn)
            try container.encode(scheduled.shardKey, forKey: .shardKey)
            try container.encode(scheduled.concurrency, forKey: .concurrency)
            try container.encodeIfPresent(scheduled.changeRequest, forKey: .changeRequest)
        case .stepStarted(let step, let attempt, let executor, let leaseToken):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(executor, forKey: .executor)
            try container.encode(leaseToken, forKey: .leaseToken)
        case .stepSucceeded(let step, let attempt, let outputs):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(JSONValue.object(outputs), forKey: .outputs)
        case .stepFailed(let step, let attempt, let errorClass, let message):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(errorClass.rawValue, forKey: .errorClass)
            try container.encode(message, forKey: .message)
        case .stepRetryScheduled(let step, let attempt, let delay, let dueAt):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(delay, forKey: .delay)
            try container.encode(dueAt, forKey: .dueAt)
        case .stepSkipped(let step, let reason):
            try container.encode(step, forKey: .step)
            try container.encode(reason, forKey: .reason)
        case .mapExpanded(let step, let attempt, let items):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(items, forKey: .items)
        case .stepTimedOut(let step, let attempt, let timeout):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(timeout.rawValue, forKey: .timeout)
        case .stepCancelled(let step, let attempt, let reason):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(reason, forKey: .reason)
        case .timerFired(let timerID):
            try container.encode(timerID, forKey: .timerID)
        case .runCancelRequested(let actor, let reason):
            try container.encodeIfPresent(actor, forKey: .actor)
            try container.encode(reason, forKey: .reason)
        case .runRetryRequested(let fromStep, let pass, let actor):
            try container.encode(fromStep, forKey: .fromStep)
            try container.encode(pass, forKey: .pass)
            try container.encodeIfPresent(actor, forKey: .actor)
        case .waitOpened(let step, let attempt, let waitID):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(waitID, forKey: .waitID)
        case .subflowStarted(let request):
            try container.encode(request.step, forKey: .step)
            try container.encode(request.attempt, forKey: .attempt)
            try container.encode(request.waitID, forKey: .waitID)
            try container.encode(request.flow, forKey: .flow)
            try container.encode(request.input, forKey: .input)
        case .callbackReceived(let step, let waitID, let status, let output):
            try container.encode(step, forKey: .step)
            try container.encode(waitID, forKey: .waitID)
            try container.encode(status.rawValue, forKey: .status)
            try container.encode(output, forKey: .output)
        case .approvalRequested(let request):
            try container.encode(request.step, forKey: .step)
            try container.encode(request.attempt, forKey: .attempt)
            try container.encode(request.approvalID, forKey: .approvalID)
            try container.encodeIfPresent(request.summary, forKey: .summary)
            try container.encode(request.bound, forKey: .bound)
        case .approvalDecided(let step, let approvalID, let decision, let actor, let note):
            try container.encode(step, forKey: .step)
            try container.encode(approvalID, forKey: .approvalID)
            try container.encode(decision.rawValue, forKey: .decision)
            try container.encodeIfPresent(actor, forKey: .actor)
            try container.encodeIfPresent(note, forKey: .note)
        case .runFinished(let outcome, let reason):
            try container.encode(outcome.rawValue, forKey: .outcome)
            try container.encodeIfPresent(reason, forKey: .reason)
        case .usageRecorded(let step, let attempt, let usage):
            try container.encode(step, forKey: .step)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(usage.jsonValue, forKey: .usage)
        case .budgetGateOpened(let gate):
            try container.encode(gate.number, forKey: .gate)
            try container.encode(gate.approvalID, forKey: .approvalID)
            try container.encode(gate.step, forKey: .step)
            try container.encode(gate.summary, forKey: .summary)
            try container.encode(gate.used.jsonValue, forKey: .used)
            try container.encode(gate.limits.jsonValue, forKey: .limits)
        case .budgetRaised(let gate, let limits):
            try container.encode(gate, forKey: .gate)
            try container.encode(limits.jsonValue, forKey: .limits)
        }
    }
}

extension ConcurrencyClaim: Codable {
    private enum Key: String, CodingKey { case scope, key, limit }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let text = try container.decode(String.self, forKey: .scope)
        guard let scope = Scope(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .scope, in: container, debugDescription: "unknown scope '\(text)'")
        }
        self.init(
            scope: scope, key: try container.decode(String.self, forKey: .key),
            limit: try container.decode(Int.self, forKey: .limit))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(scope.rawValue, forKey: .scope)
        try container.encode(key, forKey: .key)
        try container.encode(limit, forKey: .limit)
    }
}

extension ChangeRequest: Codable {
    private enum Key: String, CodingKey { case note, actor, round }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        self.init(
            note: try container.decodeIfPresent(String.self, forKey: .note),
            actor: try container.decodeIfPresent(String.self, forKey: .actor),
            round: try container.decode(Int.self, forKey: .round))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(note, forKey: .note)
        try container.encodeIfPresent(actor, forKey: .actor)
        try container.encode(round, forKey: .round)
    }
}
