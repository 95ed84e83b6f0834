/// The run engine's decisions: `(state, fact from the world) → (state, derived facts, commands)`.
///
/// Pure and deterministic: no clock (every time comes from a fact's `at`), no randomness (retry jitter
/// is a hash), no I/O. The caller (trigger-intake, step-executor, approval-service, callback-gateway)
/// locks the run, appends the fact and `derived` to the history, stores the new state and writes the
/// commands to the outbox, all in one transaction. Scheduling, skip and finish rules are documented
/// in docs/history.md.
public struct RunReducer: Sendable {
    public let flow: FlowDefinition
    /// Every template the reducer evaluates, compiled once.
    private let templates: [String: Result<ExpressionTemplate, ExpressionError>]
    /// For each step, the steps whose `status` or `decision` its `if:` reads.
    let statusReads: [String: Set<String>]
    /// The flow's steps by id.
    let definitions: [String: StepDefinition]

    public init(flow: FlowDefinition) {
        self.flow = flow
        definitions = Dictionary(flow.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var sources: [String] = []
        sources.append(contentsOf: [flow.concurrency?.key, flow.shardKey].compactMap { $0 })
        for step in flow.steps {
            sources.append(contentsOf: [step.condition, step.concurrency?.key].compactMap { $0 })
            if let gate = step.approvalGate {
                sources.append(contentsOf: gate.bind)
                if let summary = gate.summary { sources.append(summary) }
            }
        }
        var templates: [String: Result<ExpressionTemplate, ExpressionError>] = [:]
        for source in sources where templates[source] == nil {
            templates[source] = Result { () throws(ExpressionError) in try ExpressionTemplate(parsing: source)
            }
        }
        self.templates = templates
        var statusReads: [String: Set<String>] = [:]
        for step in flow.steps {
            guard let condition = step.condition, case .success(let template)? = templates[condition] else {
                continue
            }
            let read = template.references.steps.filter { $0.field == .status || $0.field == .decision }
            statusReads[step.id] = Set(read.map(\.stepID))
        }
        self.statusReads = statusReads
    }

    /// A run of this flow before its trigger.
    public var initialState: RunState { RunState(flow: flow) }

    /// Folds `fact` into `state` and decides what follows. A fact the state does not accept (see
    /// `RunState.accepts`) gives an `ignored` transition with the state unchanged and nothing to do.
    public func reduce(_ state: RunState, _ fact: RunFact) -> RunTransition {
        guard state.accepts(fact) else {
            return RunTransition(state: state, derived: [], commands: [], ignored: true)
        }
        var decision = RunDecision(reducer: self, state: state, at: fact.at)
        decision.state.apply(fact)
        decision.react(to: fact.event, before: state)
        decision.reconcile(with: state, fired: fact.event)
        return RunTransition(
            state: decision.state, derived: decision.derived, commands: decision.commands, ignored: false)
    }

    /// Re-decides a stored history from its external facts alone: the state and the derived facts the
    /// reducer produces now. For a sound history both equal the stored ones (DESIGN invariant 2).
    public func redecide(_ history: some Sequence<RunFact>) -> (state: RunState, derived: [RunFact]) {
        var state = initialState
        var derived: [RunFact] = []
        for fact in history where !fact.derived {
            let transition = reduce(state, fact)
            state = transition.state
            derived.append(contentsOf: transition.derived)
        }
        return (state, derived)
    }

    /// The value of a template of this flow, or why it has none.
    func evaluate(_ source: String, in context: ExpressionContext) -> Result<JSONValue, ExpressionError> {
        let compiled =
            templates[source]
            ?? Result { () throws(ExpressionError) in try ExpressionTemplate(parsing: source) }
        return compiled.flatMap { template in
            Result { () throws(ExpressionError) in try template.evaluate(in: context) }
        }
    }
}
