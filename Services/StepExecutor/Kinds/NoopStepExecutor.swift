import KeelCore

/// `noop`: succeeds at once with no outputs; it joins branches or marks a milestone.
struct NoopStepExecutor: StepKindExecutor {
    func execute(_ work: StepWork) async -> StepOutcome {
        if Task.isCancelled { return .failed(.cancelled, message: "cancelled before it started") }
        return .succeeded(outputs: [:])
    }
}
