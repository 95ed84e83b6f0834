/// What expressions may read about the run itself through the `run` root.
public struct RunContext: Sendable, Hashable {
    /// `run.id`: the run's UUID.
    public var id: String
    /// `run.flow`: the flow's name.
    public var flow: String
    /// `run.version`: the flow version number the run is pinned to.
    public var version: Int
    /// `run.correlation_id`.
    public var correlationID: String
    /// `run.actor`: who triggered the run; null when nobody did (e.g. a schedule).
    public var actor: String?
    /// `run.attempt`: the current step's attempt number, from 1.
    public var attempt: Int

    public init(
        id: String, flow: String, version: Int, correlationID: String, actor: String? = nil,
        attempt: Int = 1
    ) {
        self.id = id
        self.flow = flow
        self.version = version
        self.correlationID = correlationID
        self.actor = actor
        self.attempt = attempt
    }

    /// The value of `run.<field>`.
    func value(of field: RunField) -> JSONValue {
        switch field {
        case .id: return .string(id)
        case .flow: return .string(flow)
        case .version: return .number(JSONNumber(version))
        case .correlationID: return .string(correlationID)
        case .actor: return actor.map(JSONValue.string) ?? .null
        case .attempt: return .number(JSONNumber(attempt))
        }
    }
}
