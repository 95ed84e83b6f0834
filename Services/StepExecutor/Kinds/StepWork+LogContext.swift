import KeelStore

extension StepWork {
    /// The attempt's identity on the kind's log lines.
    var logContext: RunLogContext {
        RunLogContext(
            runID: runID, correlationID: correlationID, flow: flow, release: version, step: step.id,
            attempt: attempt, traceID: RunLogContext.traceID(of: traceparent))
    }
}
