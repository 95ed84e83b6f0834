import KeelCore

/// What an attempt spent, as the executor records it with the result: the `usage` a `run` step wrote in its
/// outputs file, an `http` step's `usage` read from its response or the tokens and cost an `agent` step's
/// tool reported, plus the wall time of `run`, `ssh` and `agent` attempts as machine minutes.
enum AttemptUsage {
    /// The outputs without `usage`, and the usage it held. A `run` step's `usage` is accounting, not an
    /// output: it goes to the history as `usage.recorded`, and people read the sums in `keel run show`.
    /// An `http` step keeps its outputs; its `usage` templates read them as `response`.
    static func split(_ outputs: JSONObject, of step: StepDefinition, context: ExpressionContext)
        throws(UsageProblem) -> (outputs: JSONObject, usage: Usage)
    {
        switch step.kind {
        case .run:
            guard let reported = outputs["usage"] else { return (outputs, .zero) }
            let usage = try Usage(json: reported, field: "KEEL_OUTPUT usage")
            var rest = outputs
            rest["usage"] = nil
            return (rest, usage)
        case .http(let action):
            return (outputs, try action.spent(response: .object(outputs), context: context))
        case .agent:
            // An agent step keeps its `usage` output (what its tool reported) and spends it too.
            guard let reported = outputs["usage"] else { return (outputs, .zero) }
            return (outputs, try AgentUsage(json: reported, field: "usage").spent)
        default:
            return (outputs, .zero)
        }
    }

    /// The wall time of an attempt as machine minutes, for the kinds that hold a machine while they run.
    static func machineTime(_ elapsed: Duration, of step: StepDefinition) -> Usage {
        switch step.kind {
        case .run, .ssh, .agent:
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return Usage(machineMinutes: max(0, seconds) / 60)
        default:
            return .zero
        }
    }
}
