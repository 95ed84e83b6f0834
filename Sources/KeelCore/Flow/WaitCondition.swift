/// Pauses the step until a callback arrives whose payload matches `schema`, or the step times out.
public struct WaitCondition: Sendable, Hashable {
    /// Required: a wait never lasts forever.
    public var timeout: FlowDuration
    /// When set, the waited-for job must send a heartbeat at least this often or the step fails.
    public var heartbeat: FlowDuration?
    /// JSON Schema (draft 2020-12) of the callback payload.
    public var schema: JSONValue?
    /// An approval requested when the wait opens (`approval:` beside `wait:`): the step ends on whichever
    /// comes first, the callback or the decision, and the other is closed. Never has `request_changes`.
    public var approval: ApprovalGate?

    public init(
        timeout: FlowDuration, heartbeat: FlowDuration? = nil, schema: JSONValue? = nil,
        approval: ApprovalGate? = nil
    ) {
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.schema = schema
        self.approval = approval
    }
}
