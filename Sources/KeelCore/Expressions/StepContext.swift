/// What expressions may read about one step of the run: `steps.<id>.outputs`, `.status`, `.decision`.
public struct StepContext: Sendable, Hashable {
    /// A step's state, as `steps.<id>.status` spells it.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending
        case running
        case succeeded
        case failed
        case skipped
        case cancelled
        case timedOut = "timed_out"
        case partial
    }

    /// An approval step's recorded decision, as `steps.<id>.decision` spells it.
    public enum Decision: String, Sendable, Hashable, Codable, CaseIterable {
        case approve
        case reject
        case requestChanges = "request_changes"
    }

    public var outputs: JSONObject
    public var status: Status
    /// Nil until an approval step is decided, and for other steps.
    public var decision: Decision?

    public init(outputs: JSONObject = [:], status: Status, decision: Decision? = nil) {
        self.outputs = outputs
        self.status = status
        self.decision = decision
    }
}
