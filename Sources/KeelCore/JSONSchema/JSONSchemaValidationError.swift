/// One reason an instance does not satisfy a schema.
///
/// Messages describe the instance by type, size or number, never by its string contents, so they
/// can be logged and returned to API callers without leaking payload data.
public struct JSONSchemaValidationError: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance the problem is, e.g. `/task` (empty for the whole instance).
    public let instanceLocation: JSONPointer
    /// The failing keyword's location in the schema document (after following `$ref`), e.g.
    /// `/properties/task/maxLength`.
    public let keywordLocation: JSONPointer
    /// What a person should know, e.g. `expected at most 4000 characters, got 4120`.
    public let message: String

    public init(instanceLocation: JSONPointer, keywordLocation: JSONPointer, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.message = message
    }

    /// The failing keyword's name (`maxLength`), the last token of `keywordLocation`.
    public var keyword: String { keywordLocation.tokens.last ?? "" }

    public var description: String {
        let location = instanceLocation.isRoot ? "value" : "\"\(instanceLocation)\""
        return "\(location): \(message) (schema \"\(keywordLocation)\")"
    }
}
