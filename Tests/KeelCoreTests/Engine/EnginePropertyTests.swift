import Foundation
import Testing

@testable import KeelCore

/// Random flows (real `FlowDefinition`s parsed from generated YAML) driven by a random world that
/// starts, finishes, fails and redelivers attempts, fires timers and answers waits.
@Suite("Engine: properties")
struct EnginePropertyTests {
    @Test(arguments: 0..<8)
    func randomRunsFinishAndReplay(batch: Int) throws {
        var outcomes: [RunOutcome: Int] = [:]
        var kinds: Set<String> = []
        var besideWaits = 0
        for index in 0..<40 {
            let seed = UInt64(batch * 1_000 + index)
            var random = SplitMix64(seed: seed)
            let yaml = Self.randomFlow(&random)
            var world = try World(yaml: yaml, random: random)
            world.play()
            world.check(seed: seed, yaml: yaml)
            if let outcome = world.run.state.outcome { outcomes[outcome, default: 0] += 1 }
            kinds.formUnion(world.run.history.map(\.event.kind))
            besideWaits +=
                world.run.history.filter {
                    guard case .approvalRequested(let request) = $0.event else { return false }
                    return world.run.reducer.flow.step(request.step)?.waitCondition != nil
                }.count
        }
        #expect(besideWaits > 0, "no approval beside a wait was requested")
        // The random world reaches every ending and most kinds of facts.
        #expect(outcomes[.succeeded, default: 0] > 0 && outcomes[.failed, default: 0] > 0)
        #expect(
            kinds.isSuperset(of: [
                "run.retry_requested", "step.retry_scheduled", "step.skipped", "step.timed_out",
                "wait.opened", "approval.requested", "map.expanded", "subflow.started",
            ]), "\(kinds.sorted())")
    }

    @Test(arguments: ["safe-code-change.yaml", "gpu-benchmark.yaml", "bulk-data-fix.yaml"])
    func exampleFlowsSucceedAndTheirStoredHistoryReplays(name: String) throws {
        let flow = try FlowTest.parse(FlowTest.example(name))
        var world = World(flow: flow, random: SplitMix64(seed: 1))
        world.outputs["plan"] = ["shards": ["0/3", "1/3", "2/3"], "rows": 12]
        let input: JSONValue = [
            "repo": "keel", "task": "fix it", "commit": "abc1234", "host": "gpu-1", "table": "users",
            "fix": "trim",
        ]
        world.feed(
            .runTriggered(
                RunTrigger(
                    runID: world.run.runID, flow: flow.name, version: 1, input: input, actor: "alice",
                    correlationID: "c", idempotencyKey: "k")))
        world.drain()
        world.check(seed: 0, yaml: name)
        #expect(world.run.state.outcome == .succeeded)
        // gpu-benchmark's job succeeds here, so only its `succeeded` path runs.
        let otherPaths: Set<String> = name == "gpu-benchmark.yaml" ? ["report-partial", "triage"] : []
        for (id, step) in world.run.state.steps {
            #expect(step.status == (otherPaths.contains(id) ? .skipped : .succeeded), "\(id)")
        }
        // Stored as JSON (as run_history.fact) and read back, the history replays to the same state.
        let stored = try JSONDecoder().decode([RunFact].self, from: JSONEncoder().encode(world.run.history))
        #expect(stored == world.run.history)
        #expect(RunState.replay(stored, flow: flow) == world.run.state)
        #expect(RunReducer(flow: flow).redecide(stored).derived == stored.filter(\.derived))
    }

    static func randomFlow(_ random: inout SplitMix64) -> String {
        let count = Int.random(in: 1...9, using: &random)
        var yaml = "flow: random\n"
        if Bool.random(using: &random) { yaml += "timeout: \(Int.random(in: 1...5, using: &random))h\n" }
        yaml += "steps:\n"
        for index in 0..<count {
            yaml += "  - id: s\(index)\n"
            let needs = (0..<index).filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
            if !needs.isEmpty { yaml += "    needs: [\(needs.map { "s\($0)" }.joined(separator: ", "))]\n" }
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where !needs.isEmpty:
                let need = needs[Int.random(in: 0..<needs.count, using: &random)]
                let status = ["failed", "succeeded", "skipped"][Int.random(in: 0..<3, using: &random)]
                yaml += "    if: \"${{ steps.s\(need).status == '\(status)' }}\"\n"
            case 1:
                yaml += "    if: \"${{ input.flag\(index % 2) }}\"\n"
            default:
                break
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0: yaml += "    wait: {timeout: 1h, heartbeat: 10m}\n"
            case 1: yaml += "    approval: {approvers: [bob], timeout: 2h, on_timeout: fail}\n"
            case 2:
                // Whichever comes first: the callback, the decision, or one of the timeouts.
                yaml += "    wait: {timeout: 1h, heartbeat: 10m}\n"
                yaml += "    approval: {approvers: [bob], timeout: 45m, on_timeout: approve}\n"
            case 3: yaml += "    run: {command: [./hand-over.sh]}\n    wait: {timeout: 1h}\n"
            case 4:
                // One element per item of the input's list (0 to 4 items), a few at a time.
                let limit = Int.random(in: 1...3, using: &random)
                yaml += "    map: {over: \"${{ input.list }}\", max_concurrency: \(limit)}\n"
                yaml += "    run: {command: [./shard.sh, \"${{ map.item }}\"]}\n"
            case 5:
                yaml +=
                    "    flow: {name: child, input: {flag: \"${{ input.flag1 }}\", run: \"${{ run.id }}\"}}\n"
            default: yaml += "    noop: {}\n"
            }
            if Bool.random(using: &random) {
                let backoff = Bool.random(using: &random) ? "fixed" : "exponential"
                let attempts = Int.random(in: 1...4, using: &random)
                let initial = Int.random(in: 1...30, using: &random)
                yaml += "    retry: {max_attempts: \(attempts), backoff: \(backoff), initial: \(initial)s, "
                yaml += "on: [transient, timeout]}\n"
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                yaml += "    timeout: \(Int.random(in: 1...90, using: &random))m\n"
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                yaml += "    queue_timeout: \(Int.random(in: 1...10, using: &random))m\n"
            }
        }
        return yaml
    }
}

/// The services and executors around one run, simplified: they act only on the reducer's commands.
private struct World {
    var run: EngineHarness
    var random: SplitMix64
    /// Attempts dispatched and not stopped: (step, attempt) → started?
    var queued: [String: (step: String, attempt: Int, started: Bool)] = [:]
    var timers: [String: RunTimer] = [:]
    /// What a step's attempts report when they succeed; none for steps not listed.
    var outputs: [String: JSONObject] = [:]
    /// Every idempotency key ever dispatched: an attempt's key is never handed out again.
    var dispatchedKeys: Set<String> = []
    var waits: [String: String] = [:]  // wait id → step
    var approvals: [String: String] = [:]  // approval id → step
    var fed: [RunFact.Event] = []
    var failures: [String] = []

    init(yaml: String, random: SplitMix64) throws {
        run = try EngineHarness(yaml)
        self.random = random
    }

    init(flow: FlowDefinition, random: SplitMix64) {
        run = EngineHarness(flow: flow)
        self.random = random
    }

    mutating func record(_ problem: String) { failures.append(problem) }

    mutating func feed(_ event: RunFact.Event) {
        fed.append(event)
        let transition = run.feed(event)
        guard !transition.ignored else { return }
        for command in transition.commands {
            switch command {
            case .dispatch(let attempt):
                if !dispatchedKeys.insert(attempt.idempotencyKey).inserted {
                    record("dispatched twice: \(attempt.idempotencyKey)")
                }
                queued[attempt.idempotencyKey] = (attempt.step, attempt.attempt, false)
            case .stopAttempt(_, _, let key, _):
                queued[key] = nil
            case .startTimer(let timer):
                if timers[timer.id] != nil { record("timer armed twice: \(timer.id)") }
                timers[timer.id] = timer
            case .cancelTimer(let id):
                if timers.removeValue(forKey: id) == nil { record("cancelled an unknown timer \(id)") }
            case .openWait(let step, _, let waitID, _, _):
                waits[waitID] = step
            case .startSubflow(let request):
                // The child's outcome comes back as a callback on the step's wait.
                waits[request.waitID] = request.step
            case .closeWait(let waitID):
                waits[waitID] = nil
            case .requestApproval(let request, _, _, _):
                approvals[request.approvalID] = request.step
            case .closeApproval(let approvalID):
                approvals[approvalID] = nil
            case .publish, .finishRun:
                break
            }
        }
        if case .timerFired(let id) = event { timers[id] = nil }
        if Set(timers.keys) != Set(run.state.timers.keys) {
            record(
                "timer commands drifted: world \(timers.keys.sorted()) vs state \(run.state.timers.keys.sorted())"
            )
        }
        if Set(waits.keys)
            != Set(run.state.steps.values.filter { $0.status == .waiting }.compactMap(\.waitID))
        {
            record("wait commands drifted")
        }
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int.random(in: 0..<items.count, using: &random)]
    }

    mutating func play() {
        let list = (0..<Int.random(in: 0...4, using: &random)).map { JSONValue.number(JSONNumber($0)) }
        let input: JSONValue = [
            "flag0": .bool(Bool.random(using: &random)), "flag1": true, "list": .array(list),
        ]
        feed(
            .runTriggered(
                RunTrigger(
                    runID: run.runID, flow: "random", version: 1, input: input, correlationID: "c",
                    idempotencyKey: "k")))
        drive()
        // Sometimes `keel run retry --from` a random step, and play on.
        for _ in 0..<2 where Int.random(in: 0..<3, using: &random) == 0 && run.state.status == .finished {
            guard let step = pick(run.state.order) else { break }
            let pass = run.state.pass
            feed(.runRetryRequested(fromStep: step, pass: pass, actor: "op"))
            // It may finish again at once (the step's needs failed, its `if:` is false).
            if run.state.pass != pass + 1 { record("retry from \(step) did not start pass \(pass + 1)") }
            drive()
        }
    }

    private mutating func drive() {
        var steps = 0
        while run.state.status == .running && steps < 400 {
            steps += 1
            run.advance(ms: Int64.random(in: 0...5_000, using: &random))
            let acted: Bool
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<35: acted = workOnAnAttempt()
            case 35..<55: acted = answerAWait()
            case 55..<65: acted = decideAnApproval()
            case 65..<80: acted = redeliver()
            case 80..<81:
                feed(.runCancelRequested(actor: "op", reason: "random"))
                acted = true
            default: acted = false
            }
            if !acted && !fireTheEarliestTimer() {
                if queued.isEmpty && waits.isEmpty && approvals.isEmpty {
                    let statuses = run.state.stepStatuses.sorted { $0.key < $1.key }
                    record("stuck: nothing queued, waiting or armed while running: \(statuses)")
                    return
                }
            }
        }
        drain()
    }

    /// A cooperative world: everything succeeds and is approved, and time passes; the run must end.
    mutating func drain() {
        var drained = 0
        while run.state.status == .running && drained < 2_000 {
            drained += 1
            if let key = queued.keys.sorted().first, let entry = queued[key] {
                if entry.started {
                    queued[key] = nil
                    feed(
                        .stepSucceeded(
                            step: entry.step, attempt: entry.attempt, outputs: outputs[entry.step] ?? [:]))
                } else {
                    queued[key]?.started = true
                    feed(.stepStarted(step: entry.step, attempt: entry.attempt, executor: "e", leaseToken: 1))
                }
            } else if let waitID = waits.keys.sorted().first, let step = waits[waitID] {
                feed(.callbackReceived(step: step, waitID: waitID, status: .succeeded, output: nil))
            } else if let approvalID = approvals.keys.sorted().first, let step = approvals[approvalID] {
                feed(
                    .approvalDecided(
                        step: step, approvalID: approvalID, decision: .approve, actor: "bob", note: nil))
            } else if !fireTheEarliestTimer() {
                record("stuck while draining")
                return
            }
        }
    }

    private mutating func workOnAnAttempt() -> Bool {
        guard let key = pick(queued.keys.sorted()), let entry = queued[key] else { return false }
        if !entry.started {
            queued[key]?.started = true
            feed(.stepStarted(step: entry.step, attempt: entry.attempt, executor: "e", leaseToken: 1))
            return true
        }
        queued[key] = nil
        let roll = Int.random(in: 0..<10, using: &random)
        if roll < 6 {
            feed(
                .stepSucceeded(step: entry.step, attempt: entry.attempt, outputs: outputs[entry.step] ?? [:]))
        } else {
            let errorClass: ErrorClass = roll < 8 ? .transient : (roll < 9 ? .permanent : .timeout)
            feed(.stepFailed(step: entry.step, attempt: entry.attempt, errorClass: errorClass, message: "x"))
        }
        return true
    }

    private mutating func answerAWait() -> Bool {
        guard let waitID = pick(waits.keys.sorted()), let step = waits[waitID] else { return false }
        let status = pick(CallbackStatus.allCases) ?? .succeeded
        feed(.callbackReceived(step: step, waitID: waitID, status: status, output: ["n": 1]))
        return true
    }

    private mutating func decideAnApproval() -> Bool {
        guard let approvalID = pick(approvals.keys.sorted()), let step = approvals[approvalID] else {
            return false
        }
        let decision = pick(StepContext.Decision.allCases) ?? .approve
        feed(
            .approvalDecided(step: step, approvalID: approvalID, decision: decision, actor: "bob", note: nil))
        return true
    }

    /// Delivers again something already handled, as a broker may.
    private mutating func redeliver() -> Bool {
        guard let event = pick(fed) else { return false }
        feed(event)
        return true
    }

    /// Fires the earliest armed timer, moving the clock to it: how time passes when nothing else happens.
    private mutating func fireTheEarliestTimer() -> Bool {
        guard let timer = timers.values.min(by: { ($0.due, $0.id) < ($1.due, $1.id) }) else { return false }
        run.now = max(run.now, timer.due.millisecondsSinceEpoch)
        feed(.timerFired(timerID: timer.id))
        return true
    }

    func check(seed: UInt64, yaml: String) {
        let context = "seed \(seed)\n\(yaml)"
        #expect(failures.isEmpty, "\(failures)\n\(context)")
        #expect(run.state.status == .finished, "run did not finish\n\(context)")
        #expect(run.state.steps.values.allSatisfy { $0.status.isFinal }, "unfinished steps\n\(context)")
        #expect(timers.isEmpty && waits.isEmpty && approvals.isEmpty, "left armed or open\n\(context)")
        // Walk the history: nothing starts before its needs finish, nothing finished is started again.
        var state = RunState(flow: run.reducer.flow)
        for fact in run.history {
            let started: String? =
                switch fact.event {
                case .stepScheduled(let attempt): attempt.step
                case .waitOpened(let step, _, _) where state.steps[step]?.status != .succeeded: step
                case .approvalRequested(let request): request.step
                default: nil
                }
            if let id = started, let definition = run.reducer.flow.step(id) {
                for need in definition.needs {
                    #expect(
                        state.steps[need]?.status.isFinal == true,
                        "\(id) began before \(need) finished\n\(context)")
                }
                let status = state.steps[id]?.status
                #expect(
                    status != .succeeded && status != .partial,
                    "\(id) began again after finishing\n\(context)")
            }
            if let id = started, let element = MapElement.parse(id) {
                #expect(
                    state.steps[element.step]?.status == .running,
                    "\(id) began while its mapped step was not running\n\(context)")
            }
            state.apply(fact)
            for definition in run.reducer.flow.steps {
                guard let map = definition.map else { continue }
                let active = state.elements(of: definition.id).count { id in
                    guard let status = state.steps[id]?.status else { return false }
                    return !status.isFinal && status != .pending
                }
                #expect(
                    active <= map.maxConcurrency, "\(definition.id): \(active) elements at once\n\(context)")
            }
        }
        #expect(state == run.state, "replay differs\n\(context)")
        let stored = try? JSONDecoder().decode([RunFact].self, from: JSONEncoder().encode(run.history))
        #expect(stored == run.history, "history JSON does not round-trip\n\(context)")
        let snapshot = try? JSONDecoder().decode(
            RunSnapshot.self, from: JSONEncoder().encode(RunSnapshot(run.state)))
        #expect(
            snapshot?.state(flow: run.reducer.flow) == run.state,
            "snapshot does not restore the state\n\(context)")
        let (redecided, derived) = run.reducer.redecide(run.history)
        #expect(redecided == run.state, "re-decided state differs\n\(context)")
        #expect(derived == run.history.filter(\.derived), "re-decided facts differ\n\(context)")
    }
}
