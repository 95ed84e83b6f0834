import Testing

@testable import KeelCore

/// Drives one run through the reducer as the services would: feeds external facts, keeps the history
/// and the commands, and checks replay and re-deciding after every step.
struct EngineHarness {
    let reducer: RunReducer
    var state: RunState
    var history: [RunFact] = []
    /// Commands of the last accepted fact.
    var commands: [RunCommand] = []
    var allCommands: [RunCommand] = []
    /// The caller's clock, in milliseconds since the epoch.
    var now: Int64 = 1_800_000_000_000
    let runID = RunID.fixture(1)

    init(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.init(flow: try FlowTest.parse(yaml, sourceLocation: sourceLocation))
    }

    init(flow: FlowDefinition) {
        reducer = RunReducer(flow: flow)
        state = reducer.initialState
    }

    var at: Timestamp { Timestamp(millisecondsSinceEpoch: now) }

    mutating func advance(ms: Int64) { now += ms }

    /// Feeds a fact from the world; returns the transition.
    @discardableResult
    mutating func feed(_ event: RunFact.Event) -> RunTransition {
        let fact = RunFact(at: at, event: event)
        let transition = reducer.reduce(state, fact)
        if !transition.ignored {
            history.append(fact)
            history.append(contentsOf: transition.derived)
            commands = transition.commands
            allCommands.append(contentsOf: transition.commands)
        } else {
            #expect(transition.state == state)
            #expect(transition.derived.isEmpty && transition.commands.isEmpty)
        }
        state = transition.state
        return transition
    }

    @discardableResult
    mutating func trigger(
        input: JSONValue = [:], actor: String? = "alice", requester: String? = "alice", replyTo: String? = nil
    )
        -> RunTransition
    {
        feed(
            .runTriggered(
                RunTrigger(
                    runID: runID, flow: reducer.flow.name, version: 3, input: input, actor: actor,
                    requester: requester, correlationID: "corr-1", idempotencyKey: "key-1", replyTo: replyTo))
        )
    }

    func step(_ id: String) -> StepState { state.steps[id] ?? StepState() }

    @discardableResult
    mutating func start(_ id: String) -> RunTransition {
        feed(.stepStarted(step: id, attempt: step(id).attempt, executor: "exec-1", leaseToken: 7))
    }

    @discardableResult
    mutating func succeed(_ id: String, outputs: JSONObject = [:]) -> RunTransition {
        feed(.stepSucceeded(step: id, attempt: step(id).attempt, outputs: outputs))
    }

    @discardableResult
    mutating func fail(_ id: String, _ errorClass: ErrorClass = .permanent, message: String = "boom")
        -> RunTransition
    {
        feed(.stepFailed(step: id, attempt: step(id).attempt, errorClass: errorClass, message: message))
    }

    /// Starts and succeeds a step.
    mutating func complete(_ id: String, outputs: JSONObject = [:]) {
        start(id)
        succeed(id, outputs: outputs)
    }

    /// The armed timer with this purpose.
    func timer(_ purpose: RunTimer.Purpose) -> RunTimer? {
        state.timers.values.first { $0.purpose == purpose }
    }

    /// Moves the clock to the timer's due time and fires it.
    @discardableResult
    mutating func fire(_ purpose: RunTimer.Purpose, sourceLocation: SourceLocation = #_sourceLocation)
        -> RunTransition?
    {
        guard let timer = timer(purpose) else {
            Issue.record(
                "no armed timer \(purpose); armed: \(state.timers.keys.sorted())",
                sourceLocation: sourceLocation)
            return nil
        }
        now = max(now, timer.due.millisecondsSinceEpoch)
        return feed(.timerFired(timerID: timer.id))
    }

    /// Steps dispatched by the last accepted fact.
    var dispatched: [String] {
        commands.compactMap { if case .dispatch(let attempt) = $0 { attempt.step } else { nil } }
    }

    var derivedKinds: [String] {
        history.filter(\.derived).map(\.event.kind)
    }

    /// Routing keys published by the last accepted fact.
    var published: [String] {
        commands.compactMap { if case .publish(let key, _) = $0 { key } else { nil } }
    }

    /// Replay and re-deciding both reproduce the live run.
    func checkHistory(sourceLocation: SourceLocation = #_sourceLocation) {
        let replayed = RunState.replay(history, flow: reducer.flow)
        #expect(replayed == state, "replay differs", sourceLocation: sourceLocation)
        let (redecided, derived) = reducer.redecide(history)
        #expect(redecided == state, "re-deciding gives another state", sourceLocation: sourceLocation)
        #expect(
            derived == history.filter(\.derived), "re-deciding gives other facts",
            sourceLocation: sourceLocation)
        #expect(
            RunSnapshot(state).state(flow: reducer.flow) == state, "the snapshot does not restore the state",
            sourceLocation: sourceLocation)
    }
}

extension RunState {
    var stepStatuses: [String: StepState.Status] { steps.mapValues(\.status) }
}
