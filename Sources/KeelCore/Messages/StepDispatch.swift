/// An attempt handed to the executors on `keel.steps.<pool>.<shard>`: only the attempt's identity. The
/// executor reads everything else (the step's definition, the run's input and earlier outputs) from the
/// system of record when it claims the attempt, so a dispatch is small and never stale.
///
/// Body: `{"run_id", "flow", "version", "step", "attempt", "idempotency_key", "correlation_id"}`; unknown
/// fields are ignored.
public struct StepDispatch: Sendable, Hashable {
    public var runID: RunID
    public var flow: String
    public var version: Int
    public var step: String
    public var attempt: Int
    public var idempotencyKey: String
    public var correlationID: String

    public init(
        runID: RunID, flow: String, version: Int, step: String, attempt: Int, idempotencyKey: String,
        correlationID: String
    ) {
        self.runID = runID
        self.flow = flow
        self.version = version
        self.step = step
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.correlationID = correlationID
    }

    public var json: JSONValue {
        .object([
            "run_id": .string(runID.description), "flow": .string(flow),
            "version": .number(JSONNumber(version)),
            "step": .string(step), "attempt": .number(JSONNumber(attempt)),
            "idempotency_key": .string(idempotencyKey), "correlation_id": .string(correlationID),
        ])
    }

    /// Reads a dispatch body; nil when a field is missing or of the wrong type (a poison message).
    public init?(json: JSONValue) {
        guard let object = json.objectValue,
            let runID = object["run_id"]?.stringValue.flatMap(RunID.init),
            let flow = object["flow"]?.stringValue,
            let version = object["version"]?.int64Value.flatMap({ Int(exactly: $0) }),
            let step = object["step"]?.stringValue,
            let attempt = object["attempt"]?.int64Value.flatMap({ Int(exactly: $0) }),
            let idempotencyKey = object["idempotency_key"]?.stringValue,
            let correlationID = object["correlation_id"]?.stringValue
        else { return nil }
        self.init(
            runID: runID, flow: flow, version: version, step: step, attempt: attempt,
            idempotencyKey: idempotencyKey, correlationID: correlationID)
    }
}
