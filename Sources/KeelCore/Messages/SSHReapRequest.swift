/// Asks the executors to stop the detached job of an `ssh` attempt that the engine stopped (its wait
/// timed out, its heartbeat was missed, the run was cancelled). Sent through the outbox, in the
/// transaction that recorded the stop, to the queues of the pool that ran the attempt
/// (`keel.steps.<pool>.<shard>`, header `keel-type: ssh.reap`), so an executor that knows the host
/// reaps it; a reaper that cannot reach the host leaves the message to be delivered again.
///
/// Body: `{"type": "ssh.reap", "run_id", "step", "attempt", "idempotency_key", "host", "pid", "reason"}`
/// and, for the reaper's log lines, `"flow", "version", "correlation_id"` (optional: older requests lack
/// them); `pid` is what the attempt reported (the reaper trusts the pid file on the host, named by the
/// idempotency key, over it).
public struct SSHReapRequest: Sendable, Hashable {
    public static let messageType = "ssh.reap"

    public var runID: RunID
    public var step: String
    public var attempt: Int
    public var idempotencyKey: String
    /// The host's name in the executors' `KEEL_SSH_HOSTS`.
    public var host: String
    public var pid: Int?
    public var reason: String
    /// The run's flow, release and correlation id: only what its log lines say about it.
    public var flow: String?
    public var version: Int?
    public var correlationID: String?

    public init(
        runID: RunID, step: String, attempt: Int, idempotencyKey: String, host: String, pid: Int?,
        reason: String, flow: String? = nil, version: Int? = nil, correlationID: String? = nil
    ) {
        self.runID = runID
        self.step = step
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.host = host
        self.pid = pid
        self.reason = reason
        self.flow = flow
        self.version = version
        self.correlationID = correlationID
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "type": .string(Self.messageType), "run_id": .string(runID.description), "step": .string(step),
            "attempt": .number(JSONNumber(attempt)), "idempotency_key": .string(idempotencyKey),
            "host": .string(host), "pid": pid.map { .number(JSONNumber($0)) } ?? .null,
            "reason": .string(reason),
        ]
        if let flow { object["flow"] = .string(flow) }
        if let version { object["version"] = .number(JSONNumber(version)) }
        if let correlationID { object["correlation_id"] = .string(correlationID) }
        return .object(object)
    }

    /// Reads a body; nil when a required field is missing or of the wrong type.
    public init?(json: JSONValue) {
        guard let object = json.objectValue,
            let runID = object["run_id"]?.stringValue.flatMap(RunID.init),
            let step = object["step"]?.stringValue,
            let attempt = object["attempt"]?.int64Value.flatMap({ Int(exactly: $0) }),
            let idempotencyKey = object["idempotency_key"]?.stringValue,
            let host = object["host"]?.stringValue, !host.isEmpty
        else { return nil }
        self.init(
            runID: runID, step: step, attempt: attempt, idempotencyKey: idempotencyKey, host: host,
            pid: object["pid"]?.int64Value.flatMap { Int(exactly: $0) },
            reason: object["reason"]?.stringValue ?? "", flow: object["flow"]?.stringValue,
            version: object["version"]?.int64Value.flatMap { Int(exactly: $0) },
            correlationID: object["correlation_id"]?.stringValue)
    }
}
