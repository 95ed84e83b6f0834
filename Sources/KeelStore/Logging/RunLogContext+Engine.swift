public import KeelCore

/// A `RunLogContext` from each thing the services hold when they log about a run.
extension RunLogContext {
    /// The trace id of a W3C `traceparent`; nil when there is none or it is malformed.
    public static func traceID(of traceparent: String?) -> String? {
        traceparent.flatMap(TraceContext.init(traceparent:))?.traceID
    }

    /// A run as its trigger started it: every field but step and attempt.
    public init(_ trigger: RunTrigger) {
        self.init(
            runID: trigger.runID, correlationID: trigger.correlationID, flow: trigger.flow,
            release: trigger.version, traceID: Self.traceID(of: trigger.traceparent))
    }

    /// A run from its state (the advance that just happened returns it); nil before its trigger is
    /// recorded, which no stored run is.
    public init?(_ state: RunState) {
        guard let trigger = state.trigger else { return nil }
        self.init(trigger)
    }

    /// An attempt as dispatched; the dispatch does not carry the trace.
    public init(_ dispatch: StepDispatch) {
        self.init(
            runID: dispatch.runID, correlationID: dispatch.correlationID, flow: dispatch.flow,
            release: dispatch.version, step: dispatch.step, attempt: dispatch.attempt)
    }

    /// A claimed attempt: the dispatch's fields and the run's trace.
    public init(_ claimed: ClaimedAttempt) {
        self.init(claimed.dispatch)
        traceID = Self.traceID(of: claimed.state.trigger?.traceparent)
    }

    /// A callback's token names the run, step and attempt; the rest comes from the run
    /// (`RunStore.logContext(of:)`).
    public init(_ claims: CallbackClaims) {
        self.init(runID: claims.run, step: claims.step, attempt: claims.attempt)
    }

    /// An approval names the run, flow, release, step, attempt and the run's trace; the correlation id
    /// comes from the run.
    public init(_ approval: ApprovalRecord) {
        self.init(
            runID: approval.runID, flow: approval.flow, release: approval.version, step: approval.step,
            attempt: approval.attempt, traceID: approval.traceID)
    }

    /// An ssh reap request: the attempt, and the run's fields when the request carries them (requests
    /// queued before they did have only run, step and attempt).
    public init(_ request: SSHReapRequest) {
        self.init(
            runID: request.runID, correlationID: request.correlationID, flow: request.flow,
            release: request.version, step: request.step, attempt: request.attempt)
    }
}
