/// One transition in the making: the state as facts are derived and applied, and the commands so far.
struct RunDecision {
    let reducer: RunReducer
    var state: RunState
    /// The `at` of the external fact; every derived fact carries it.
    let at: Timestamp
    private(set) var derived: [RunFact] = []
    private(set) var commands: [RunCommand] = []

    init(reducer: RunReducer, state: RunState, at: Timestamp) {
        self.reducer = reducer
        self.state = state
        self.at = at
    }

    private var flow: FlowDefinition { reducer.flow }
    private var runID: String { state.trigger?.runID.description ?? "" }

    /// Appends a derived fact and folds it.
    private mutating func record(_ event: RunFact.Event) {
        let fact = RunFact(at: at, event: event, derived: true)
        derived.append(fact)
        state.apply(fact)
    }

    private func step(_ id: String) -> StepState { state.steps[id] ?? StepState() }

    /// The definition a step or element id runs.
    private func definition(_ id: String) -> StepDefinition? {
        if let definition = reducer.definitions[id] { return definition }
        return MapElement.parse(id).flatMap { reducer.definitions[$0.step] }
    }

    private func status(_ id: String) -> StepState.Status { state.steps[id]?.status ?? .pending }

    // MARK: Reacting to the world

    /// Decides what follows an accepted external fact, already applied; `before` is the state before it.
    mutating func react(to event: RunFact.Event, before: RunState) {
        switch event {
        case .runTriggered:
            if let problem = flowKeyProblem() {
                finish(.failed, reason: problem)
            } else {
                advance()
            }
        case .stepStarted:
            break
        case .stepSucceeded(let id, let attempt, _):
            if definition(id)?.waitCondition != nil {
                openWait(id, attempt: attempt)
                // An approval beside the wait that could not be rendered failed the step instead.
                if step(id).status != .waiting { advance() }
            } else {
                publishStep("step.succeeded", id, attempt: attempt)
                advance()
            }
        case .stepFailed(let id, let attempt, let errorClass, _):
            afterFailure(id, attempt: attempt, errorClass: errorClass)
            advance()
        case .timerFired(let timerID):
            if let timer = before.timers[timerID] { fire(timer.purpose) }
        case .runCancelRequested(_, let reason):
            cancel(reason: reason)
        case .runRetryRequested:
            advance()
        case .callbackReceived(let id, _, let status, _):
            let attempt = before.steps[id]?.attempt ?? 0
            switch status {
            case .heartbeat:
                break
            case .succeeded, .partial:
                publishStep("step.succeeded", id, attempt: attempt)
                advance()
            case .failed:
                afterFailure(id, attempt: attempt, errorClass: .permanent)
                advance()
            }
        case .approvalDecided(let id, let approvalID, let decision, let actor, _)
        where before.budgetGate?.approvalID == approvalID:
            decideBudget(id, approvalID: approvalID, decision, actor: actor)
        case .approvalDecided(let id, let approvalID, let decision, let actor, _):
            // Beside an ssh wait, the decision came first: the job's callback is no longer wanted.
            if let previous = before.steps[id], holdsWork(previous, id) {
                stop(id, attempt: previous.attempt, reason: "the approval was decided first")
            }
            publishDecision(
                id, attempt: before.steps[id]?.attempt, approvalID: approvalID, decision, actor: actor)
            afterDecision(id, before: before)
            advance()
        case .stepScheduled, .stepRetryScheduled, .stepSkipped, .stepTimedOut, .stepCancelled, .waitOpened,
            .approvalRequested, .runFinished, .mapExpanded, .subflowStarted, .usageRecorded,
            .budgetGateOpened,
            .budgetRaised:
            break
        }
    }

    private mutating func fire(_ purpose: RunTimer.Purpose) {
        switch purpose {
        case .runTimeout:
            cancel(reason: "the run's timeout passed")
        case .stepTimeout(let id):
            let attempt = step(id).attempt
            stopIfActive(id, reason: "the step's timeout passed")
            record(.stepTimedOut(step: id, attempt: attempt, timeout: .step))
            publishFailure(id)
            advance()
        case .queueTimeout(let id, let attempt):
            stopIfActive(id, reason: "the step's queue timeout passed")
            timeOut(id, attempt: attempt, kind: .queue)
        case .retry(let id, let attempt):
            startAttempt(id, attempt: attempt)
            advance()
        case .waitTimeout(let id, let attempt):
            stopIfActive(id, reason: "the wait's timeout passed")
            timeOut(id, attempt: attempt, kind: .wait)
        case .heartbeat(let id, let attempt):
            stopIfActive(id, reason: "no heartbeat within the wait's interval")
            timeOut(id, attempt: attempt, kind: .heartbeat)
        case .approvalTimeout(let id, let attempt):
            guard let gate = definition(id)?.approvalGate, let approvalID = step(id).approvalID
            else { return }
            stopIfActive(id, reason: "the approval's timeout passed")
            switch gate.onTimeout {
            case .reject, .approve:
                let decision: StepContext.Decision = gate.onTimeout == .approve ? .approve : .reject
                record(
                    .approvalDecided(
                        step: id, approvalID: approvalID, decision: decision, actor: nil,
                        note: "the approval's timeout passed"))
                publishDecision(id, attempt: attempt, approvalID: approvalID, decision, actor: nil)
                if decision == .approve {
                    publishStep("step.succeeded", id, attempt: attempt)
                } else {
                    publishFailure(id)
                }
                advance()
            case .fail:
                timeOut(id, attempt: attempt, kind: .approval)
            }
        case .approvalReminder(let id, let attempt):
            publish(
                "approval.reminder.\(flow.name)", step: id, attempt: attempt,
                extra: ["approval_id": step(id).approvalID.map(JSONValue.string) ?? .null])
        }
    }

    private mutating func timeOut(_ id: String, attempt: Int, kind: TimeoutKind) {
        record(.stepTimedOut(step: id, attempt: attempt, timeout: kind))
        afterFailure(id, attempt: attempt, errorClass: .timeout)
        advance()
    }

    private mutating func afterDecision(_ id: String, before: RunState) {
        let now = step(id)
        switch now.status {
        case .succeeded:
            publishStep("step.succeeded", id, attempt: before.steps[id]?.attempt ?? 0)
        case .failed:
            publishFailure(id)
        default:
            // Sent back by request_changes: stop the attempts the rewind abandoned.
            for (other, previous) in before.steps.sorted(by: { $0.key < $1.key })
            where holdsWork(previous, other) && (state.steps[other]?.status ?? .pending) == .pending {
                stop(other, attempt: previous.attempt, reason: "changes were requested")
            }
        }
    }

    /// After a failed or timed-out attempt: a retry when the policy, the attempt count and the step's
    /// deadline allow, else the step has failed for good.
    private mutating func afterFailure(_ id: String, attempt: Int, errorClass: ErrorClass) {
        let current = step(id)
        guard attempt > 0, state.cancelReason == nil, let policy = definition(id)?.retry,
            policy.on.contains(errorClass)
        else {
            publishFailure(id)
            return
        }
        let failures = attempt - current.roundStart + 1
        guard failures < policy.maxAttempts else {
            publishFailure(id)
            return
        }
        let next = attempt + 1
        let delay = RetryDelay.delay(policy, failures: failures, runID: runID, step: id, attempt: next)
        let due = at.adding(delay)
        if let deadline = current.deadline, due >= deadline {
            publishFailure(id)
            return
        }
        record(.stepRetryScheduled(step: id, attempt: next, delay: delay, dueAt: due))
        if delay.milliseconds == 0 { startAttempt(id, attempt: next) }
    }

    // MARK: Scheduling

    /// Decides every pending step whose needs have all finished, in topological order (so a skip
    /// propagates down the DAG in one pass), then finishes the run when every step is final.
    private mutating func advance() {
        guard state.status == .running, state.cancelReason == nil else { return }
        for id in state.order where status(id) == .pending || isExpanded(id) {
            if isExpanded(id) {
                progressMap(id)
                continue
            }
            guard let definition = definition(id),
                definition.needs.allSatisfy({ status($0).isFinal })
            else { continue }
            let needs = definition.needs.map { ($0, status($0)) }
            let readsStatus = !(reducer.statusReads[id] ?? []).isEmpty
            if let unmet = needs.first(where: { !$0.1.isSuccess }), !readsStatus {
                record(.stepSkipped(step: id, reason: "need '\(unmet.0)' \(unmet.1.contextStatus.rawValue)"))
                continue
            }
            let attempt = step(id).attempt + 1
            if let condition = definition.condition {
                switch reducer.evaluate(condition, in: context(attempt: attempt)) {
                case .failure(let error):
                    record(.stepFailed(step: id, attempt: 0, errorClass: .permanent, message: "if: \(error)"))
                    publishFailure(id)
                    continue
                case .success(let value) where !value.isTruthy:
                    record(.stepSkipped(step: id, reason: "if: condition is false"))
                    continue
                case .success:
                    break
                }
            }
            if let map = definition.map {
                expand(id, map: map, attempt: attempt)
            } else if !heldByBudget(id) {
                startAttempt(id, attempt: attempt)
            }
        }
        if state.status == .running, state.order.allSatisfy({ status($0).isFinal }) {
            finish(outcome(), reason: nil)
        }
    }

    // MARK: Map

    /// A mapped step whose elements are under way.
    private func isExpanded(_ id: String) -> Bool {
        status(id) == .running && step(id).mapItems != nil
    }

    /// Evaluates `map.over` and turns the step into one element step per item.
    private mutating func expand(_ id: String, map: StepMap, attempt: Int) {
        let problem: String
        switch reducer.evaluate(map.over, in: context(attempt: attempt)) {
        case .failure(let error):
            problem = "map.over: \(error)"
        case .success(.array(let items)) where items.count <= StepMap.maximumElements:
            record(.mapExpanded(step: id, attempt: attempt, items: items))
            progressMap(id)
            return
        case .success(.array(let items)):
            problem = "map.over: \(items.count) elements; at most \(StepMap.maximumElements) are allowed"
        case .success(let other):
            problem = "map.over: expected a list; got \(other.typeName)"
        }
        record(.stepFailed(step: id, attempt: 0, errorClass: .permanent, message: problem))
        publishFailure(id)
    }

    /// Starts pending elements up to `max_concurrency`, and once every element is final, finishes the
    /// mapped step: succeeded with every element's outputs in order, or failed with the first element that
    /// failed. After an element fails for good, the elements not yet started are skipped.
    private mutating func progressMap(_ id: String) {
        guard let map = definition(id)?.map else { return }
        let elements = state.elements(of: id)
        if let failed = elements.firstIndex(where: { status($0).isFailure }) {
            for element in elements where status(element) == .pending {
                record(.stepSkipped(step: element, reason: "element \(failed) failed"))
            }
        } else {
            var active = elements.count { !status($0).isFinal && status($0) != .pending }
            for element in elements where status(element) == .pending && active < map.maxConcurrency {
                if heldByBudget(element) { break }
                startAttempt(element, attempt: step(element).attempt + 1)
                if !status(element).isFinal { active += 1 }
            }
        }
        guard elements.allSatisfy({ status($0).isFinal }) else { return }
        let attempt = step(id).attempt
        if let failed = elements.firstIndex(where: { status($0).isFailure }) {
            let element = step(elements[failed])
            let why = element.message.map { ": \($0)" } ?? ""
            record(
                .stepFailed(
                    step: id, attempt: attempt, errorClass: element.errorClass ?? .permanent,
                    message: "element \(failed) \(element.status.contextStatus.rawValue)\(why)"))
            publishFailure(id)
        } else {
            let results = elements.map { JSONValue.object(step($0).outputs) }
            record(
                .stepSucceeded(
                    step: id, attempt: attempt,
                    outputs: ["results": .array(results), "count": .number(JSONNumber(results.count))]))
            publishStep("step.succeeded", id, attempt: attempt)
        }
    }

    /// Begins `attempt` of a step whose turn has come: a dispatch, a wait or an approval request.
    private mutating func startAttempt(_ id: String, attempt: Int) {
        guard let definition = definition(id) else { return }
        switch definition.kind {
        case .wait:
            openWait(id, attempt: attempt)
        case .subflow(let action):
            startSubflow(id, attempt: attempt, action: action)
        case .approval(let gate):
            requestApproval(id, attempt: attempt, gate: gate)
        case .run, .http, .ssh, .agent, .noop:
            let context = context(attempt: attempt, step: id)
            var claims: [ConcurrencyClaim] = []
            var shardKey = runID
            do throws(KeyProblem) {
                if let limit = flow.concurrency {
                    claims.append(
                        ConcurrencyClaim(
                            scope: .flow, key: try key(limit.key, "concurrency.key", context),
                            limit: limit.limit))
                }
                if let limit = definition.concurrency {
                    claims.append(
                        ConcurrencyClaim(
                            scope: .step,
                            key: try key(limit.key, "steps.\(definition.id).concurrency.key", context),
                            limit: limit.limit))
                }
                if let template = flow.shardKey { shardKey = try key(template, "shard_key", context) }
            } catch {
                record(.stepFailed(step: id, attempt: 0, errorClass: .permanent, message: error.message))
                publishFailure(id)
                return
            }
            let scheduled = ScheduledAttempt(
                step: id, attempt: attempt,
                idempotencyKey: state.attemptID(step: id, attempt: attempt)?.idempotencyKey ?? "",
                runsOn: definition.runsOn, shardKey: shardKey, concurrency: claims,
                changeRequest: state.changeRequest(for: id))
            record(.stepScheduled(scheduled))
            commands.append(.dispatch(scheduled))
        }
    }

    /// Renders the child's input and asks for the child run; the step waits for its outcome.
    private mutating func startSubflow(_ id: String, attempt: Int, action: SubflowAction) {
        let input: JSONValue
        do throws(KeyProblem) {
            input = try renderJSON(
                action.input, "steps.\(id).flow.input", context(attempt: attempt, step: id))
        } catch {
            record(.stepFailed(step: id, attempt: 0, errorClass: .permanent, message: error.message))
            publishFailure(id)
            return
        }
        // The child's trigger must be one trigger-intake takes: a bigger one would be refused before
        // intake could tell the parent, which would then wait for a child that never comes.
        let size = input.jsonString().utf8.count
        guard size <= SubflowAction.maximumInputBytes else {
            record(
                .stepFailed(
                    step: id, attempt: 0, errorClass: .permanent,
                    message:
                        "steps.\(id).flow.input: the child's input is \(size) bytes; at most \(SubflowAction.maximumInputBytes) fit a trigger"
                ))
            publishFailure(id)
            return
        }
        let request = SubflowRequest(
            step: id, attempt: attempt, waitID: state.attemptID(step: id, attempt: attempt)?.waitID ?? "",
            flow: action.flow, input: input)
        record(.subflowStarted(request))
        commands.append(.startSubflow(request))
    }

    /// Every string in `json` (not the keys) evaluated as a template, as the executor renders a body.
    private func renderJSON(_ json: JSONValue, _ field: String, _ context: ExpressionContext)
        throws(KeyProblem)
        -> JSONValue
    {
        switch json {
        case .null, .bool, .number:
            return json
        case .string(let template):
            return try render(template, field, context)
        case .array(let elements):
            var rendered: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                rendered.append(try renderJSON(element, "\(field)[\(index)]", context))
            }
            return .array(rendered)
        case .object(let members):
            var rendered = JSONObject()
            for (key, member) in members {
                rendered[key] = try renderJSON(member, "\(field).\(key)", context)
            }
            return .object(rendered)
        }
    }

    /// Opens the attempt's wait and, when an approval sits beside it, requests that too: the step ends on
    /// whichever answers first, and the other is closed in the same transition.
    private mutating func openWait(_ id: String, attempt: Int) {
        var request: ApprovalRequest?
        if let gate = definition(id)?.waitCondition?.approval {
            // Rendered first, so a summary or bind that cannot be evaluated opens nothing.
            guard let rendered = approvalRequest(id, attempt: attempt, gate: gate) else { return }
            request = rendered
        }
        let waitID = state.attemptID(step: id, attempt: attempt)?.waitID ?? ""
        record(.waitOpened(step: id, attempt: attempt, waitID: waitID))
        let now = step(id)
        commands.append(
            .openWait(
                step: id, attempt: attempt, waitID: waitID, timeoutAt: now.waitDeadline ?? at,
                heartbeatAt: now.heartbeatDue))
        if let request { askApprovers(request) }
    }

    private mutating func requestApproval(_ id: String, attempt: Int, gate: ApprovalGate) {
        if let request = approvalRequest(id, attempt: attempt, gate: gate) { askApprovers(request) }
    }

    /// The gate's request with its summary and bound values evaluated, or nil when one cannot be (the
    /// step has then failed as `permanent`).
    private mutating func approvalRequest(_ id: String, attempt: Int, gate: ApprovalGate) -> ApprovalRequest?
    {
        let context = context(attempt: attempt)
        var summary: String?
        var bound: [JSONValue] = []
        do throws(KeyProblem) {
            if let template = gate.summary {
                summary = try render(template, "steps.\(id).approval.summary", context).interpolationText
            }
            for (index, template) in gate.bind.enumerated() {
                bound.append(try render(template, "steps.\(id).approval.bind[\(index)]", context))
            }
        } catch {
            record(.stepFailed(step: id, attempt: 0, errorClass: .permanent, message: error.message))
            publishFailure(id)
            return nil
        }
        return ApprovalRequest(
            step: id, attempt: attempt,
            approvalID: state.attemptID(step: id, attempt: attempt)?.approvalID ?? "", summary: summary,
            bound: bound)
    }

    private mutating func askApprovers(_ request: ApprovalRequest) {
        record(.approvalRequested(request))
        let now = step(request.step)
        commands.append(
            .requestApproval(
                request, requester: state.trigger?.requester, timeoutAt: now.approvalDeadline,
                reminderAt: now.reminderDue))
        publish(
            "approval.requested.\(flow.name)", step: request.step, attempt: request.attempt,
            extra: ["approval_id": .string(request.approvalID)])
    }

    // MARK: Budget

    /// Whether a step that costs must wait instead of beginning: a budget gate is open, or the run has used
    /// a limit up (then this opens the gate). Retries of a step already begun are not held, as a running
    /// step is not stopped: the gate comes before the next step.
    private mutating func heldByBudget(_ id: String) -> Bool {
        switch definition(id)?.kind {
        case .run?, .http?, .ssh?, .agent?, .subflow?: break
        default: return false
        }
        if state.budgetGate != nil { return true }
        guard let budget = flow.budget, let limits = state.budgetLimits,
            !limits.exhausted(by: state.usage).isEmpty
        else { return false }
        let number = state.budgetGates + 1
        let gate = BudgetGate(
            number: number, approvalID: BudgetGate.approvalID(run: runID, number: number), step: id,
            summary: BudgetGate.summary(
                used: state.usage, limits: limits, raise: budget.raise, currency: budget.currency),
            used: state.usage, limits: limits)
        record(.budgetGateOpened(gate))
        commands.append(
            .requestApproval(
                ApprovalRequest(
                    step: id, attempt: 0, approvalID: gate.approvalID, summary: gate.summary, bound: []),
                requester: state.trigger?.requester, timeoutAt: nil, reminderAt: nil))
        publish(
            "approval.requested.\(flow.name)", step: id, attempt: nil,
            extra: ["approval_id": .string(gate.approvalID), "budget": true])
        return true
    }

    /// Approving raises every limit by the budget's `raise` and lets the held steps begin (or opens the next
    /// gate at once if that is still not enough); rejecting fails the run as `budget_exceeded`.
    private mutating func decideBudget(
        _ id: String, approvalID: String, _ decision: StepContext.Decision, actor: String?
    ) {
        publishDecision(id, attempt: nil, approvalID: approvalID, decision, actor: actor)
        guard decision == .approve, let budget = flow.budget, let limits = state.budgetLimits else {
            let reason =
                "\(RunFailure.budgetExceeded): more budget was refused" + (actor.map { " by \($0)" } ?? "")
            for other in state.liveOrder where !step(other).status.isFinal {
                let attempt = step(other).attempt
                stopIfActive(other, reason: reason)
                record(.stepCancelled(step: other, attempt: attempt, reason: reason))
            }
            finish(.failed, reason: reason)
            return
        }
        record(.budgetRaised(gate: state.budgetGates, limits: limits.raised(by: budget.raise)))
        advance()
    }

    // MARK: Ending

    private mutating func cancel(reason: String) {
        for id in state.liveOrder where !step(id).status.isFinal {
            let attempt = step(id).attempt
            stopIfActive(id, reason: reason)
            record(.stepCancelled(step: id, attempt: attempt, reason: reason))
        }
        finish(.cancelled, reason: reason)
    }

    private mutating func finish(_ outcome: RunOutcome, reason: String?) {
        record(.runFinished(outcome: outcome, reason: reason))
        var extra: JSONObject = ["outcome": .string(outcome.rawValue)]
        if let reason { extra["reason"] = .string(reason) }
        let failed = state.order.filter { step($0).status.isFailure }
        if !failed.isEmpty { extra["failed_steps"] = .array(failed.map(JSONValue.string)) }
        publish("run.\(outcome.rawValue).\(flow.name)", step: nil, attempt: nil, extra: extra)
        commands.append(.finishRun(outcome: outcome, replyTo: state.trigger?.replyTo))
    }

    /// Failed when a step failed or timed out and no step handled it; succeeded otherwise. A failure of
    /// step F is handled when a step whose `if:` reads F's `status` or `decision` ran (its condition
    /// was true).
    private func outcome() -> RunOutcome {
        for id in state.order where step(id).status.isFailure {
            let handled = reducer.statusReads.contains { reader, read in
                read.contains(id) && ![.pending, .skipped, .cancelled].contains(step(reader).status)
            }
            if !handled { return .failed }
        }
        return .succeeded
    }

    // MARK: Commands

    /// Stops the step's attempt if some worker holds it: dispatched or running, or an `ssh` job that
    /// was started and is being waited for (the reaper stops the remote process).
    private mutating func stopIfActive(_ id: String, reason: String) {
        let current = step(id)
        if holdsWork(current, id) { stop(id, attempt: current.attempt, reason: reason) }
    }

    private func holdsWork(_ current: StepState, _ id: String) -> Bool {
        // A mapped step's work is held by its elements.
        if current.mapItems != nil { return false }
        switch current.status {
        case .scheduled, .running: return true
        case .waiting:
            // A started ssh job, or a child run: stopping the step stops them.
            switch definition(id)?.kind {
            case .ssh?, .subflow?: return true
            default: return false
            }
        default: return false
        }
    }

    private mutating func stop(_ id: String, attempt: Int, reason: String) {
        commands.append(
            .stopAttempt(
                step: id, attempt: attempt,
                idempotencyKey: state.attemptID(step: id, attempt: attempt)?.idempotencyKey ?? "",
                reason: reason))
    }

    private mutating func publishStep(_ kind: String, _ id: String, attempt: Int) {
        publish("\(kind).\(flow.name).\(id)", step: id, attempt: attempt, extra: [:])
    }

    private mutating func publishFailure(_ id: String) {
        let current = step(id)
        var extra: JSONObject = ["status": .string(current.status.contextStatus.rawValue)]
        if let errorClass = current.errorClass { extra["error_class"] = .string(errorClass.rawValue) }
        if let message = current.message { extra["message"] = .string(message) }
        publish("step.failed.\(flow.name).\(id)", step: id, attempt: current.attempt, extra: extra)
    }

    /// `approval.decided.<flow>`: whoever settled the gate (a person, or nobody when its timeout did).
    private mutating func publishDecision(
        _ id: String, attempt: Int?, approvalID: String, _ decision: StepContext.Decision, actor: String?
    ) {
        publish(
            "approval.decided.\(flow.name)", step: id, attempt: attempt,
            extra: [
                "approval_id": .string(approvalID), "decision": .string(decision.rawValue),
                "actor": actor.map(JSONValue.string) ?? .null,
            ])
    }

    private mutating func publish(_ routingKey: String, step id: String?, attempt: Int?, extra: JSONObject) {
        var body: JSONObject = [
            "run_id": .string(runID), "flow": .string(flow.name),
            "version": .number(JSONNumber(state.trigger?.version ?? 0)),
            "correlation_id": .string(state.trigger?.correlationID ?? ""),
        ]
        if let id { body["step"] = .string(id) }
        if let attempt { body["attempt"] = .number(JSONNumber(attempt)) }
        for (name, value) in extra { body[name] = value }
        commands.append(.publish(routingKey: routingKey, body: .object(body)))
    }

    /// Timer, wait and approval commands: the difference between what was armed or open before the
    /// transition and after it (the fired timer needs no cancelling).
    mutating func reconcile(with before: RunState, fired event: RunFact.Event) {
        var firedID: String?
        if case .timerFired(let id) = event { firedID = id }
        let (old, new) = (before.timers, state.timers)
        for id in old.keys.sorted() where new[id] == nil && id != firedID {
            commands.append(.cancelTimer(id: id))
        }
        for id in new.keys.sorted() where old[id] == nil {
            if let timer = new[id] { commands.append(.startTimer(timer)) }
        }
        func open(_ run: RunState, _ field: KeyPath<StepState, String?>) -> Set<String> {
            Set(
                run.steps.values.filter { $0.status == .waiting && run.status == .running }.compactMap {
                    $0[keyPath: field]
                })
        }
        for waitID in open(before, \.waitID).subtracting(open(state, \.waitID)).sorted() {
            commands.append(.closeWait(waitID: waitID))
        }
        func openBudget(_ run: RunState) -> Set<String> {
            run.status == .running ? Set([run.budgetGate?.approvalID].compactMap { $0 }) : []
        }
        let approvalsBefore = open(before, \.approvalID).union(openBudget(before))
        let approvalsAfter = open(state, \.approvalID).union(openBudget(state))
        for approvalID in approvalsBefore.subtracting(approvalsAfter).sorted() {
            commands.append(.closeApproval(approvalID: approvalID))
        }
    }

    // MARK: Expressions

    /// What a template may read when `attempt` of a step is decided.
    private func context(attempt: Int, step: String? = nil) -> ExpressionContext {
        state.expressionContext(attempt: attempt, step: step)
    }

    /// Why a flow-level key (`concurrency.key`, `shard_key`) cannot be evaluated for this run, if so.
    private func flowKeyProblem() -> String? {
        let context = context(attempt: 1)
        do throws(KeyProblem) {
            if let limit = flow.concurrency { _ = try key(limit.key, "concurrency.key", context) }
            if let template = flow.shardKey { _ = try key(template, "shard_key", context) }
        } catch {
            return error.message
        }
        return nil
    }

    private func render(_ template: String, _ field: String, _ context: ExpressionContext) throws(KeyProblem)
        -> JSONValue
    {
        switch reducer.evaluate(template, in: context) {
        case .success(let value): return value
        case .failure(let error): throw KeyProblem(message: "\(field): \(error)")
        }
    }

    private func key(_ template: String, _ field: String, _ context: ExpressionContext) throws(KeyProblem)
        -> String
    {
        try render(template, field, context).interpolationText
    }

    private struct KeyProblem: Error {
        let message: String
    }
}
