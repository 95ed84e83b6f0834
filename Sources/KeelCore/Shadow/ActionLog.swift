/// A run's history folded fact by fact (`RunState.apply`, which never decides), keeping what each
/// decision that starts work would render to, with the state as it was at that decision. The shadow
/// keeps one for the recorded run and one for its shadow, so both sides are rendered alike.
struct ActionLog: Sendable {
    let flow: FlowDefinition
    private(set) var state: RunState
    private(set) var actions: [AttemptAction: RenderedAction] = [:]
    /// The latest `step.skipped` reason of each step.
    private(set) var skipReasons: [String: String] = [:]

    init(flow: FlowDefinition) {
        self.flow = flow
        state = RunState(flow: flow)
    }

    /// Folds `fact`; returns the action it decided, if it decided one.
    @discardableResult
    mutating func record(_ fact: RunFact) -> AttemptAction? {
        state.apply(fact)
        let key: AttemptAction
        let action: RenderedAction
        switch fact.event {
        case .stepScheduled(let scheduled):
            guard var definition = flow.definition(ofStepOrElement: scheduled.step) else { return nil }
            definition.id = scheduled.step
            key = AttemptAction(step: scheduled.step, attempt: scheduled.attempt, phase: .dispatch)
            action = .dispatched(
                definition, context: state.expressionContext(attempt: scheduled.attempt, step: scheduled.step)
            )
        case .waitOpened(let step, let attempt, _):
            // A `run` or `ssh` step's wait follows its command: the dispatch was its action.
            guard var definition = flow.definition(ofStepOrElement: step), case .wait = definition.kind else {
                return nil
            }
            definition.id = step
            key = AttemptAction(step: step, attempt: attempt, phase: .wait)
            action = .dispatched(definition, context: state.expressionContext(attempt: attempt, step: step))
        case .approvalRequested(let request):
            key = AttemptAction(step: request.step, attempt: request.attempt, phase: .approval)
            action = .approval(request)
        case .subflowStarted(let request):
            key = AttemptAction(step: request.step, attempt: request.attempt, phase: .subflow)
            action = .subflow(request)
        case .stepSkipped(let step, let reason):
            skipReasons[step] = reason
            return nil
        default:
            return nil
        }
        actions[key] = action
        return key
    }
}
