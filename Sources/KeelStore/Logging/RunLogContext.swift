public import Logging
public import KeelCore

/// Who a log line is about: a run's identity, as DESIGN §5 asks every line about a run to carry it, so
/// an operator can follow one run (or one attempt) across the four services by `run_id`,
/// `correlation_id` or `trace_id`.
///
/// Built from whatever the logging code holds (a dispatch, a claimed attempt, a callback's claims, an
/// approval, a row of `runs`); a field it does not know is left off the line, never guessed.
public struct RunLogContext: Sendable, Hashable {
    /// The run's UUIDv7, lowercase.
    public var runID: RunID
    /// The id the trigger's sender correlates the run by (its AMQP `correlation_id`).
    public var correlationID: String?
    public var flow: String?
    /// The flow version the run is pinned to.
    public var release: Int?
    public var step: String?
    public var attempt: Int?
    /// The run's W3C trace id (32 hex digits).
    public var traceID: String?

    public init(
        runID: RunID, correlationID: String? = nil, flow: String? = nil, release: Int? = nil,
        step: String? = nil, attempt: Int? = nil, traceID: String? = nil
    ) {
        self.runID = runID
        self.correlationID = correlationID
        self.flow = flow
        self.release = release
        self.step = step
        self.attempt = attempt
        self.traceID = traceID
    }

    /// The log fields, in the order documented in docs/observability.md (Logs).
    public static let fieldNames = [
        "run_id", "correlation_id", "flow", "release", "step", "attempt", "trace_id",
    ]

    /// The same run, about one attempt of one of its steps.
    public func attempt(_ attempt: Int, of step: String) -> RunLogContext {
        var context = self
        context.step = step
        context.attempt = attempt
        return context
    }

    /// The known fields, with what a second source knows filled in where this one knows nothing (a
    /// callback's claims completed by the run's row).
    public func filling(from other: RunLogContext) -> RunLogContext {
        guard other.runID == runID else { return self }
        return RunLogContext(
            runID: runID, correlationID: correlationID ?? other.correlationID, flow: flow ?? other.flow,
            release: release ?? other.release, step: step ?? other.step, attempt: attempt ?? other.attempt,
            traceID: traceID ?? other.traceID)
    }

    /// The fields a log line carries: `run_id` always, the others when known.
    public var metadata: Logger.Metadata {
        var fields: Logger.Metadata = ["run_id": .string(runID.description)]
        if let correlationID { fields["correlation_id"] = .string(correlationID) }
        if let flow { fields["flow"] = .string(flow) }
        if let release { fields["release"] = .string(String(release)) }
        if let step { fields["step"] = .string(step) }
        if let attempt { fields["attempt"] = .string(String(attempt)) }
        if let traceID { fields["trace_id"] = .string(traceID) }
        return fields
    }

    /// `metadata` with a line's own fields (`error`, `reason`, ...) added; the run's identity wins a clash,
    /// so a line cannot be made to name another run.
    public func metadata(adding extra: Logger.Metadata) -> Logger.Metadata {
        metadata.merging(extra) { identity, _ in identity }
    }
}
