/// A run as its history leaves it: a fold of its facts.
///
/// `apply` folds any fact, external or derived, without deciding anything; the decisions (what to
/// schedule, retry, skip, when to finish) are `RunReducer`'s. Replaying a stored history with `apply`
/// gives exactly the state the live reducer had (DESIGN invariant 2). The state knows its flow
/// version for the shape of the DAG and the durations that turn a fact's `at` into deadlines.
public struct RunState: Sendable, Hashable {
    /// Where the run as a whole stands.
    public enum Status: String, Sendable, Hashable {
        /// No `run.triggered` yet.
        case pending
        case running
        case finished
    }

    public let flow: FlowDefinition
    public internal(set) var status: Status = .pending
    /// The trigger, once `run.triggered` is applied.
    public internal(set) var trigger: RunTrigger?
    public internal(set) var outcome: RunOutcome?
    /// Why the run finished when it did not simply run out of work (cancellation, a bad `shard_key`).
    public internal(set) var finishReason: String?
    /// Every step of the flow, by id.
    public internal(set) var steps: [String: StepState]
    /// The flow's `timeout` for the current pass of the run.
    public internal(set) var runDeadline: Timestamp?
    /// 1 for the first pass of the run, incremented by each accepted `run.retry_requested`.
    public internal(set) var pass = 0
    /// Set by `run.cancel_requested` until the run is retried.
    public internal(set) var cancelReason: String?
    /// What the run has spent so far: the sum of its `usage.recorded` facts.
    public internal(set) var usage = Usage.zero
    /// The budget's limits as they stand (raised by each approved gate); nil without a budget.
    public internal(set) var budgetLimits: UsageLimits?
    /// The budget gate the run waits at, if any.
    public internal(set) var budgetGate: BudgetGate?
    /// Budget gates opened so far (numbers the next one).
    public internal(set) var budgetGates = 0
    /// Step ids, each after all it needs; among steps ready together, declaration order.
    public let order: [String]
    /// Direct dependents of each step.
    let dependents: [String: [String]]

    public init(flow: FlowDefinition) {
        self.flow = flow
        order = flow.topologicalOrder.map(\.id)
        steps = Dictionary(flow.steps.map { ($0.id, StepState()) }, uniquingKeysWith: { first, _ in first })
        var dependents: [String: [String]] = [:]
        for step in flow.steps {
            for need in step.needs { dependents[need, default: []].append(step.id) }
        }
        self.dependents = dependents
    }

    /// The state a stored history leaves, folded from the start.
    public static func replay(_ history: some Sequence<RunFact>, flow: FlowDefinition) -> RunState {
        var state = RunState(flow: flow)
        for fact in history { state.apply(fact) }
        return state
    }

    /// Attempt `attempt` of step `step` of this run, whose ids are stable (`AttemptID`); nil before the
    /// run's trigger names the run (a pending run accepts nothing else, so the reducer never asks then).
    public func attemptID(step: String, attempt: Int) -> AttemptID? {
        trigger.map { AttemptID(run: $0.runID, step: step, attempt: attempt) }
    }

    /// The approver's note the attempts of `id` carry: its own, or for an element the mapped step's (a
    /// change request sends the run back to the mapped step, and its elements do the work).
    public func changeRequest(for id: String) -> ChangeRequest? {
        steps[id]?.changeRequest ?? MapElement.parse(id).flatMap { steps[$0.step]?.changeRequest }
    }

    /// The element steps of a mapped step's current expansion, in list order; none before it expands.
    public func elements(of step: String) -> [String] {
        (0..<(steps[step]?.mapItems?.count ?? 0)).map { MapElement.id(step, $0) }
    }

    /// `order` with each mapped step followed by its current elements: every step of the run.
    public var liveOrder: [String] {
        order.flatMap { [$0] + elements(of: $0) }
    }

    /// `step` and everything that transitively needs it, in topological order.
    public func downstream(of step: String) -> [String] {
        var reached: Set<String> = [step]
        var stack = [step]
        while let next = stack.popLast() {
            for dependent in dependents[next] ?? [] where reached.insert(dependent).inserted {
                stack.append(dependent)
            }
        }
        return order.filter { reached.contains($0) }
    }

    /// Whether a fact from the world still means something to this run. A result for an attempt that
    /// is not the current one, a second result, a timer no longer armed, a callback or decision for a
    /// closed wait or approval, anything after the run finished (except a retry request): all no.
    public func accepts(_ fact: RunFact) -> Bool {
        if fact.derived { return false }
        switch status {
        case .pending:
            if case .runTriggered = fact.event { return true }
            return false
        case .finished:
            if case .runRetryRequested(let step, let pass, _) = fact.event {
                // A run is retried from a flow step, never from one element of a mapped step.
                return flow.step(step) != nil && pass == self.pass
            }
            return false
        case .running:
            break
        }
        switch fact.event {
        case .stepStarted(let id, let attempt, _, let leaseToken):
            guard let step = steps[id], attempt > 0, step.attempt == attempt else { return false }
            // A running attempt whose lease was lost may be claimed again, with a newer fencing token.
            return step.status == .scheduled
                || (step.status == .running && leaseToken > (step.leaseToken ?? .min))
        case .stepSucceeded(let id, let attempt, _), .stepFailed(let id, let attempt, _, _):
            guard let step = steps[id] else { return false }
            return attempt > 0 && step.attempt == attempt
                && (step.status == .scheduled || step.status == .running)
        case .timerFired(let timerID):
            return timers[timerID] != nil
        case .runCancelRequested:
            return true
        case .callbackReceived(let id, let waitID, _, _):
            guard let step = steps[id] else { return false }
            return step.status == .waiting && step.waitID == waitID
        case .usageRecorded(let id, let attempt, _):
            // Spent by the current attempt, with its result: counted once, as the result is.
            guard let step = steps[id] else { return false }
            return attempt > 0 && step.attempt == attempt
                && [.scheduled, .running, .waiting].contains(step.status)
        case .approvalDecided(let id, let approvalID, _, _, _):
            if let gate = budgetGate, gate.approvalID == approvalID { return true }
            guard let step = steps[id] else { return false }
            return step.status == .waiting && step.approvalID == approvalID
        case .runTriggered, .runRetryRequested, .stepScheduled, .stepRetryScheduled, .stepSkipped,
            .mapExpanded,
            .stepTimedOut,
            .stepCancelled, .waitOpened, .approvalRequested, .runFinished, .subflowStarted, .budgetGateOpened,
            .budgetRaised:
            return false
        }
    }

    /// Folds one fact into the state. Facts from the world that `accepts` refuses change nothing, so a
    /// history that recorded an ignored duplicate still replays to the same state.
    public mutating func apply(_ fact: RunFact) {
        if !fact.derived && !accepts(fact) { return }
        let at = fact.at
        switch fact.event {
        case .runTriggered(let trigger):
            self.trigger = trigger
            status = .running
            pass = 1
            runDeadline = flow.timeout.map { at.adding($0) }
            budgetLimits = flow.budget?.limits
        case .stepScheduled(let scheduled):
            let definition = flow.definition(ofStepOrElement: scheduled.step)
            let queueTimeout = definition?.queueTimeout
            update(scheduled.step) { step in
                step.begin(attempt: scheduled.attempt, at: at, timeout: definition?.timeout)
                step.status = .scheduled
                step.scheduledAt = at
                step.queueDeadline = queueTimeout.map { at.adding($0) }
            }
        case .stepStarted(let id, _, let executor, let leaseToken):
            update(id) { step in
                step.status = .running
                step.queueDeadline = nil
                if step.startedAt == nil { step.startedAt = at }
                step.executor = executor
                step.leaseToken = leaseToken
            }
        case .stepSucceeded(let id, _, let outputs):
            update(id) { step in
                step.endAttempt()
                // The approver's note stays with the step's attempts (retries too) until one succeeds.
                step.changeRequest = nil
                step.status = .succeeded
                step.outputs = outputs
            }
        case .stepFailed(let id, _, let errorClass, let message):
            update(id) { step in
                step.endAttempt()
                step.status = .failed
                step.errorClass = errorClass
                step.message = message
            }
        case .stepRetryScheduled(let id, let attempt, _, let dueAt):
            update(id) { step in
                step.endAttempt()
                step.status = .retrying
                step.retryAttempt = attempt
                step.retryDue = dueAt
            }
        case .stepSkipped(let id, let reason):
            update(id) { step in
                step.endAttempt()
                step.status = .skipped
                step.message = reason
            }
        case .mapExpanded(let id, let attempt, let items):
            update(id) { step in
                // The step's `timeout` bounds each element, so the mapped step itself has no deadline.
                step.begin(attempt: attempt, at: at, timeout: nil)
                step.status = .running
                step.startedAt = at
                step.mapItems = items
            }
            let base = steps[id]?.elementAttempts ?? 0
            for element in elements(of: id) {
                var state = StepState()
                state.attempt = base
                state.roundStart = base + 1
                steps[element] = state
            }
        case .stepTimedOut(let id, _, let timeout):
            update(id) { step in
                step.endAttempt()
                step.status = .timedOut
                step.errorClass = .timeout
                step.message = "the \(timeout.rawValue) timeout passed"
            }
        case .stepCancelled(let id, _, let reason):
            update(id) { step in
                step.endAttempt()
                step.status = .cancelled
                step.errorClass = .cancelled
                step.message = reason
            }
        case .timerFired(let timerID):
            if case .approvalReminder(let id, _) = timers[timerID]?.purpose {
                update(id) { $0.reminderDue = nil }
            }
        case .runCancelRequested(_, let reason):
            cancelReason = reason
        case .runRetryRequested(let from, _, _):
            pass += 1
            status = .running
            outcome = nil
            finishReason = nil
            cancelReason = nil
            runDeadline = flow.timeout.map { at.adding($0) }
            for id in downstream(of: from) { reset(id) }
        case .waitOpened(let id, let attempt, let waitID):
            let definition = flow.definition(ofStepOrElement: id)
            let condition = definition?.waitCondition
            update(id) { step in
                // An ssh step keeps what its start reported (host, pid) while it waits: the reaper
                // needs it to stop the job, and operators to find it. The callback replaces it.
                let started = step.outputs
                step.begin(attempt: attempt, at: at, timeout: definition?.timeout)
                if case .ssh? = definition?.kind { step.outputs = started }
                step.status = .waiting
                step.waitID = waitID
                step.waitingSince = at
                step.waitDeadline = condition.map { at.adding($0.timeout) }
                step.heartbeatInterval = condition?.heartbeat
                step.heartbeatDue = condition?.heartbeat.map { at.adding($0) }
            }
        case .subflowStarted(let request):
            let definition = flow.step(request.step)
            update(request.step) { step in
                step.begin(attempt: request.attempt, at: at, timeout: definition?.timeout)
                step.status = .waiting
                step.waitID = request.waitID
                step.waitingSince = at
            }
        case .callbackReceived(let id, _, let callbackStatus, let output):
            let child = flow.step(id).map { if case .subflow = $0.kind { true } else { false } } ?? false
            update(id) { step in
                switch callbackStatus {
                case .heartbeat:
                    step.heartbeats += 1
                    step.heartbeatDue = step.heartbeatInterval.map { at.adding($0) }
                case .succeeded, .partial:
                    step.endAttempt()
                    step.status = callbackStatus == .succeeded ? .succeeded : .partial
                    step.outputs = Self.outputs(of: output)
                case .failed:
                    step.endAttempt()
                    step.status = .failed
                    step.errorClass = .permanent
                    step.message =
                        child
                        ? (output["error"]?.stringValue ?? "the child run failed")
                        : "the job reported failure"
                    step.outputs = Self.outputs(of: output)
                }
            }
        case .approvalRequested(let request):
            let definition = flow.step(request.step)
            let gate = definition?.approvalGate
            update(request.step) { step in
                // Beside a wait, the approval joins the attempt the wait opened; alone, it begins one.
                let besideWait =
                    step.status == .waiting && step.attempt == request.attempt && step.waitID != nil
                if !besideWait {
                    step.begin(attempt: request.attempt, at: at, timeout: definition?.timeout)
                    step.status = .waiting
                    step.waitingSince = at
                }
                step.approvalID = request.approvalID
                step.approvalDeadline = gate?.timeout.map { at.adding($0) }
                step.reminderDue = gate?.reminder.map { at.adding($0) }
            }
        case .approvalDecided(let id, let approvalID, let decision, let actor, let note):
            if let gate = budgetGate, gate.approvalID == approvalID {
                // A budget gate's decision is the run's, not the step's: the step has not begun.
                budgetGate = nil
            } else {
                applyDecision(step: id, decision: decision, actor: actor, note: note)
            }
        case .runFinished(let outcome, let reason):
            status = .finished
            self.outcome = outcome
            finishReason = reason
            budgetGate = nil
        case .usageRecorded(_, _, let spent):
            usage += spent
        case .budgetGateOpened(let gate):
            budgetGate = gate
            budgetGates = gate.number
        case .budgetRaised(_, let limits):
            budgetLimits = limits
        }
    }

    private mutating func applyDecision(
        step id: String, decision: StepContext.Decision, actor: String?, note: String?
    ) {
        var record: JSONObject = ["decision": .string(decision.rawValue)]
        if flow.step(id)?.waitCondition?.approval != nil {
            // Beside a wait the decision stands in for the callback's output; nobody decided on a timeout.
            record["decided_by"] = actor.map(JSONValue.string) ?? .null
        } else if let actor {
            record["actor"] = .string(actor)
        }
        if let note { record["note"] = .string(note) }
        update(id) { step in
            step.endAttempt()
            step.decision = decision
            step.outputs = record
        }
        switch decision {
        case .approve:
            update(id) { $0.status = .succeeded }
        case .reject:
            update(id) { step in
                step.status = .failed
                step.errorClass = .permanent
                step.message = "rejected" + (actor.map { " by \($0)" } ?? "")
            }
        case .requestChanges:
            guard let rule = flow.step(id)?.approvalGate?.requestChanges, steps[rule.step] != nil else {
                update(id) { step in
                    step.status = .failed
                    step.errorClass = .permanent
                    step.message = "changes requested" + (actor.map { " by \($0)" } ?? "")
                }
                return
            }
            guard let rounds = steps[id]?.changeRounds, rounds < rule.maxRounds else {
                // Out of rounds: the gate asks again without sending the run back.
                update(id) { $0.status = .pending }
                return
            }
            update(id) { $0.changeRounds = rounds + 1 }
            for downstreamID in downstream(of: rule.step) { reset(downstreamID) }
            update(rule.step) {
                $0.changeRequest = ChangeRequest(note: note, actor: actor, round: rounds + 1)
            }
        }
    }

    /// Back to `pending` for a new round. A mapped step's elements go: the next expansion makes them
    /// anew, numbering their attempts after every attempt they had.
    private mutating func reset(_ id: String) {
        let elements = elements(of: id)
        let highest = elements.compactMap { steps[$0]?.attempt }.max() ?? 0
        for element in elements { steps[element] = nil }
        update(id) { step in
            step.reset()
            step.elementAttempts = max(step.elementAttempts, highest)
        }
    }

    private mutating func update(_ id: String, _ change: (inout StepState) -> Void) {
        guard var step = steps[id] else { return }
        change(&step)
        steps[id] = step
    }

    /// A callback's output as step outputs: an object as it is, anything else under `output`.
    static func outputs(of output: JSONValue) -> JSONObject {
        switch output {
        case .object(let object): object
        case .null: [:]
        default: ["output": output]
        }
    }
}

extension StepState {
    /// Starts attempt `attempt`; the first attempt of a round also starts the step's `timeout`.
    mutating func begin(attempt: Int, at: Timestamp, timeout: FlowDuration?) {
        endAttempt()
        if attempt != self.attempt {
            // A wait opened on the attempt an executor ran keeps when it was scheduled and started.
            scheduledAt = nil
            startedAt = nil
            waitingSince = nil
        }
        self.attempt = attempt
        if deadline == nil { deadline = timeout.map { at.adding($0) } }
        outputs = [:]
        decision = nil
        errorClass = nil
        message = nil
    }
}
