/// A person's request about a run (`keel run cancel`, `keel run retry`), turned into the fact that
/// carries it to the engine, or refused with a reason they can act on.
///
/// The engine would ignore a request that does not fit the run (docs/history.md); checking it here
/// first lets the CLI say why instead of silently doing nothing. The check runs again on the locked
/// state when the fact is added, so a run that changed in between is still judged correctly.
public enum OperatorRequest: Sendable, Hashable {
    /// `run.cancel_requested`: stop every unfinished step; the run finishes `cancelled`.
    case cancel(actor: String?, reason: String)
    /// `run.retry_requested` for the run's current pass: the step and everything downstream run again.
    case retry(fromStep: String, actor: String?)

    /// The fact for a run in `state`, stamped `at`, or why the request does not fit it.
    public func fact(for state: RunState, at: Timestamp) -> Result<RunFact, OperatorRequestRefusal> {
        let runID = state.trigger?.runID.description ?? ""
        guard state.status != .pending else { return .failure(.notTriggered(runID: runID)) }
        switch self {
        case .cancel(let actor, let reason):
            if state.status == .finished {
                return .failure(.alreadyFinished(runID: runID, outcome: state.outcome ?? .failed))
            }
            return .success(RunFact(at: at, event: .runCancelRequested(actor: actor, reason: reason)))
        case .retry(let step, let actor):
            // A flow step: a run is never retried from one element of a mapped step.
            guard state.flow.step(step) != nil else {
                return .failure(
                    .unknownStep(
                        step, flow: state.flow.name, version: state.trigger?.version ?? 0,
                        steps: state.flow.steps.map(\.id)))
            }
            guard state.status == .finished else { return .failure(.stillRunning(runID: runID)) }
            return .success(
                RunFact(at: at, event: .runRetryRequested(fromStep: step, pass: state.pass, actor: actor)))
        }
    }
}

/// Why an operator's request does not fit the run.
public enum OperatorRequestRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case notTriggered(runID: String)
    /// A finished run cannot be cancelled.
    case alreadyFinished(runID: String, outcome: RunOutcome)
    /// Only a finished run can be retried from a step.
    case stillRunning(runID: String)
    case unknownStep(String, flow: String, version: Int, steps: [String])

    public var description: String {
        switch self {
        case .notTriggered(let runID):
            "run \(runID) has not been triggered yet"
        case .alreadyFinished(let runID, let outcome):
            "run \(runID) already finished (\(outcome.rawValue)); nothing to cancel "
                + "(to run it again: keel run retry \(runID) --from STEP)"
        case .stillRunning(let runID):
            "run \(runID) has not finished; only a finished run can be retried "
                + "(to stop it first: keel run cancel \(runID) --reason TEXT)"
        case .unknownStep(let step, let flow, let version, let steps):
            "flow \(flow) v\(version) has no step '\(step)' (its steps: \(steps.joined(separator: ", ")))"
        }
    }
}
