extension RunState {
    /// What a template may read for `attempt` of a step: the input, every step's outputs, status and
    /// decision, and the run's fields. The reducer decides with it, and the executor renders the step's
    /// action with the same view (plus secrets, which only the executor has).
    public func expressionContext(attempt: Int) -> ExpressionContext {
        var steps: [String: StepContext] = [:]
        for (id, current) in self.steps {
            steps[id] = StepContext(
                outputs: current.outputs, status: current.status.contextStatus, decision: current.decision)
        }
        return ExpressionContext(
            input: trigger?.input ?? .null, steps: steps,
            run: RunContext(
                id: trigger?.runID ?? "", flow: flow.name, version: trigger?.version ?? 0,
                correlationID: trigger?.correlationID ?? "", actor: trigger?.actor, attempt: attempt))
    }
}
