extension RunTimeline {
    /// The timeline of a run of `flow` (the run's own version) from its history, in order.
    ///
    /// Facts are folded with `RunState.apply` as the engine folds them; facts from the world the state
    /// does not accept (duplicates, late results, anything after the end but a retry) are skipped, so
    /// a history that recorded them reads the same. Throws when no `run.triggered` comes first.
    public init(flow: FlowDefinition, history: some Sequence<RunFact>) throws(RunTimelineError) {
        var state = RunState(flow: flow)
        var fold = TimelineFold()
        for fact in history {
            if !fact.derived && !state.accepts(fact) { continue }
            if state.trigger == nil && fact.event.kind != "run.triggered" { continue }
            state.apply(fact)
            fold.record(fact, after: state)
        }
        guard let trigger = state.trigger, let triggeredAt = fold.triggeredAt else {
            throw .notTriggered
        }
        self.init(
            runID: trigger.runID, flow: trigger.flow, version: trigger.version,
            status: Self.status(of: state, attempts: fold.attempts), outcome: state.outcome,
            reason: state.finishReason, pass: state.pass,
            trigger: Trigger(
                actor: trigger.actor, requester: trigger.requester, correlationID: trigger.correlationID,
                idempotencyKey: trigger.idempotencyKey, input: trigger.input),
            triggeredAt: triggeredAt, finishedAt: state.status == .finished ? fold.finishedAt : nil,
            cancellation: fold.cancellation, retries: fold.retries,
            // A mapped step is followed by its elements, each with its own attempts.
            steps: flow.steps.flatMap { definition in
                ([definition.id] + state.elements(of: definition.id)).map { id in
                    let step = state.steps[id] ?? StepState()
                    return StepTimeline(
                        id: id, kind: definition.kind.name,
                        needs: id == definition.id ? definition.needs : [],
                        status: step.status, errorClass: step.errorClass, message: step.message,
                        attempts: fold.attempts[id] ?? [], usage: fold.usage[id] ?? .zero)
                }
            })
        parent = trigger.parent
        usage = state.usage
        budget = flow.budget.map { budget in
            BudgetTimeline(
                limits: state.budgetLimits ?? budget.limits, currency: budget.currency, gates: fold.gates)
        }
    }

    /// `runs.status` as the engine's `RunAdvancer` sets it, except that a run no step has begun in
    /// (only `run.triggered` recorded, as trigger-intake left runs before the engine) is `pending`.
    private static func status(of state: RunState, attempts: [String: [AttemptTimeline]]) -> Status {
        if state.status == .finished {
            switch state.outcome {
            case .succeeded: return .succeeded
            case .cancelled: return .cancelled
            case .failed, nil: return .failed
            }
        }
        let statuses = state.steps.values.map(\.status)
        if statuses.contains(where: { [.scheduled, .running, .retrying].contains($0) }) { return .running }
        if statuses.contains(.waiting) { return .waiting }
        let begun = statuses.contains { $0 != .pending } || attempts.values.contains { !$0.isEmpty }
        return begun ? .running : .pending
    }
}

/// The attempts and run-level requests gathered while folding a history.
private struct TimelineFold {
    var triggeredAt: Timestamp?
    var finishedAt: Timestamp?
    var cancellation: RunTimeline.CancelRequest?
    var retries: [RunTimeline.RetryRequest] = []
    var attempts: [String: [AttemptTimeline]] = [:]
    var usage: [String: Usage] = [:]
    var gates: [BudgetTimeline.Gate] = []

    /// Records an accepted fact; `state` is the run after it.
    mutating func record(_ fact: RunFact, after state: RunState) {
        let at = fact.at
        switch fact.event {
        case .runTriggered:
            triggeredAt = at
        case .stepScheduled(let scheduled):
            var attempt = AttemptTimeline(attempt: scheduled.attempt, pass: state.pass, scheduledAt: at)
            attempt.changeRequest = scheduled.changeRequest
            attempts[scheduled.step, default: []].append(attempt)
        case .stepStarted(let step, let number, let executor, _):
            update(step, number) { attempt in
                if attempt.startedAt == nil { attempt.startedAt = at }
                attempt.executor = executor
                attempt.claims += 1
            }
        case .stepSucceeded(let step, let number, let outputs):
            // A run or ssh step with `wait` goes on waiting for its callback on the same attempt.
            let waits = state.flow.step(step)?.waitCondition != nil
            update(step, number) { attempt in
                attempt.outputs = outputs
                attempt.resources = ResourceReference.references(in: .object(outputs))
                if !waits { attempt.finish(.succeeded, at: at) }
            }
        case .stepFailed(let step, let number, let errorClass, let message):
            update(step, number) { attempt in
                attempt.finish(.failed, at: at, errorClass: errorClass, message: message)
            }
        case .stepRetryScheduled(let step, let next, let delay, let dueAt):
            guard var list = attempts[step], !list.isEmpty else { return }
            list[list.count - 1].retry = AttemptTimeline.RetryDecision(
                attempt: next, delay: delay, dueAt: dueAt)
            attempts[step] = list
        case .stepSkipped:
            break
        case .mapExpanded(let step, let number, _):
            // The mapped step's attempt spans its elements: it starts when they are made.
            var attempt = AttemptTimeline(attempt: number, pass: state.pass, scheduledAt: at)
            attempt.startedAt = at
            attempts[step, default: []].append(attempt)
        case .stepTimedOut(let step, let number, let timeout):
            update(step, number, onlyInFlight: true) { attempt in
                attempt.finish(
                    .timedOut, at: at, errorClass: .timeout, message: "the \(timeout.rawValue) timeout passed"
                )
                attempt.timeout = timeout
            }
        case .stepCancelled(let step, let number, let reason):
            update(step, number, onlyInFlight: true) { attempt in
                attempt.finish(.cancelled, at: at, errorClass: .cancelled, message: reason)
            }
        case .timerFired:
            break
        case .runCancelRequested(let actor, let reason):
            cancellation = RunTimeline.CancelRequest(at: at, actor: actor, reason: reason)
        case .runRetryRequested(let step, let pass, let actor):
            retries.append(RunTimeline.RetryRequest(at: at, fromStep: step, pass: pass, actor: actor))
        case .subflowStarted(let request):
            // The attempt waits for its child run as a wait for a callback.
            var attempt = AttemptTimeline(attempt: request.attempt, pass: state.pass, scheduledAt: at)
            attempt.startedAt = at
            attempt.wait = AttemptTimeline.Wait(id: request.waitID, openedAt: at)
            attempts[request.step, default: []].append(attempt)
        case .waitOpened(let step, let number, let waitID):
            let wait = AttemptTimeline.Wait(id: waitID, openedAt: at)
            if attempts[step]?.contains(where: { $0.attempt == number }) == true {
                update(step, number) { $0.wait = wait }
            } else {
                var attempt = AttemptTimeline(attempt: number, pass: state.pass, scheduledAt: at)
                attempt.wait = wait
                attempts[step, default: []].append(attempt)
            }
        case .callbackReceived(let step, let waitID, let status, let output):
            updateAttempt(step, where: { $0.wait?.id == waitID }) { attempt in
                guard status != .heartbeat else {
                    attempt.wait?.heartbeats += 1
                    attempt.wait?.lastHeartbeatAt = at
                    return
                }
                attempt.wait?.callbackAt = at
                attempt.wait?.callbackStatus = status
                attempt.outputs = RunState.outputs(of: output)
                attempt.resources = ResourceReference.references(in: output)
                switch status {
                case .succeeded: attempt.finish(.succeeded, at: at)
                case .partial: attempt.finish(.partial, at: at)
                case .failed, .heartbeat:
                    attempt.finish(
                        .failed, at: at, errorClass: .permanent, message: state.steps[step]?.message)
                }
            }
        case .approvalRequested(let request):
            let approval = AttemptTimeline.Approval(
                id: request.approvalID, requestedAt: at, summary: request.summary)
            // An approval beside a wait joins the attempt the wait opened.
            if attempts[request.step]?.contains(where: { $0.attempt == request.attempt }) == true {
                update(request.step, request.attempt) { $0.approval = approval }
            } else {
                var attempt = AttemptTimeline(attempt: request.attempt, pass: state.pass, scheduledAt: at)
                attempt.approval = approval
                attempts[request.step, default: []].append(attempt)
            }
        case .usageRecorded(let step, _, let spent):
            usage[step, default: .zero] += spent
        case .budgetGateOpened(let gate):
            gates.append(
                BudgetTimeline.Gate(
                    number: gate.number, approvalID: gate.approvalID, step: gate.step, summary: gate.summary,
                    openedAt: at))
        case .budgetRaised(let number, let limits):
            if let index = gates.lastIndex(where: { $0.number == number }) { gates[index].raisedTo = limits }
        case .approvalDecided(_, let approvalID, let decision, let actor, let note)
        where gates.contains(where: { $0.approvalID == approvalID }):
            if let index = gates.lastIndex(where: { $0.approvalID == approvalID }) {
                gates[index].decision = decision
                gates[index].actor = actor
                gates[index].note = note
                gates[index].decidedAt = at
            }
        case .approvalDecided(let step, let approvalID, let decision, let actor, let note):
            let after = state.steps[step]
            updateAttempt(step, where: { $0.approval?.id == approvalID }) { attempt in
                attempt.approval?.decision = decision
                attempt.approval?.actor = actor
                attempt.approval?.note = note
                attempt.approval?.decidedAt = at
                attempt.outputs = after?.outputs ?? [:]
                switch decision {
                case .approve:
                    attempt.finish(.succeeded, at: at)
                case .reject:
                    attempt.finish(.failed, at: at, errorClass: .permanent, message: after?.message)
                case .requestChanges:
                    if after?.status == .failed {
                        attempt.finish(.failed, at: at, errorClass: .permanent, message: after?.message)
                    } else {
                        attempt.finish(.changesRequested, at: at, message: note)
                    }
                }
            }
            // Sending the run back resets the rule's step and everything downstream; attempts in
            // flight there are stopped without a fact of their own.
            for (id, list) in attempts
            where state.steps[id]?.status == .pending && list.last?.isInFlight == true {
                update(id, list[list.count - 1].attempt) { attempt in
                    attempt.finish(.cancelled, at: at, message: "changes were requested")
                }
            }
        case .runFinished:
            finishedAt = at
        }
    }

    /// Changes attempt `number` of `step`; with `onlyInFlight`, only while it has not finished (a
    /// step timeout or cancellation between attempts concerns the step, not its last attempt).
    private mutating func update(
        _ step: String, _ number: Int, onlyInFlight: Bool = false, _ change: (inout AttemptTimeline) -> Void
    ) {
        updateAttempt(step, where: { $0.attempt == number && (!onlyInFlight || $0.isInFlight) }, change)
    }

    private mutating func updateAttempt(
        _ step: String, where matches: (AttemptTimeline) -> Bool, _ change: (inout AttemptTimeline) -> Void
    ) {
        guard var list = attempts[step], let index = list.lastIndex(where: matches) else { return }
        change(&list[index])
        attempts[step] = list
    }
}

extension AttemptTimeline {
    fileprivate mutating func finish(
        _ outcome: Outcome, at: Timestamp, errorClass: ErrorClass? = nil, message: String? = nil
    ) {
        self.outcome = outcome
        finishedAt = at
        self.errorClass = errorClass
        self.message = message
    }
}
