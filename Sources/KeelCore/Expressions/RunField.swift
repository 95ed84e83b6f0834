/// A field of the `run` root.
public enum RunField: String, Sendable, Hashable, CaseIterable {
    case id
    case flow
    case version
    case correlationID = "correlation_id"
    case actor
    case attempt
}
