extension RunState {
    /// What a template may read for `attempt` of `step`: the input, every step's outputs, status and
    /// decision, the run's fields, and for an element of a mapped step its `map.item` and `map.index`.
    /// The reducer decides with it, and the executor renders the step's action with the same view (plus
    /// secrets, which only the executor has).
    public func expressionContext(attempt: Int, step: String? = nil) -> ExpressionContext {
        var steps: [String: StepContext] = [:]
        // Elements are not addressable (`steps.<id>` names a flow step), so only flow steps are listed.
        for id in order {
            guard let current = self.steps[id] else { continue }
            steps[id] = StepContext(
                outputs: current.outputs, status: current.status.contextStatus, decision: current.decision)
        }
        var map: MapContext?
        if let step, let element = MapElement.parse(step),
            let items = self.steps[element.step]?.mapItems, items.indices.contains(element.index)
        {
            map = MapContext(item: items[element.index], index: element.index)
        }
        return ExpressionContext(
            input: trigger?.input ?? .null, steps: steps,
            run: RunContext(
                id: trigger?.runID.description ?? "", flow: flow.name, version: trigger?.version ?? 0,
                correlationID: trigger?.correlationID ?? "", actor: trigger?.actor, attempt: attempt),
            map: map)
    }
}
