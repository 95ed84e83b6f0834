/// Why a schema cannot be compiled, and where in the schema: a malformed keyword (`minLength: -1`),
/// an unknown `type` name, a `$ref` that leads nowhere.
public struct JSONSchemaCompileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Location of the offending keyword in the schema document, e.g. `/properties/name/minLength`.
    public let schemaLocation: JSONPointer
    /// What is wrong, e.g. `minLength must be a non-negative integer, found -1`.
    public let message: String

    public init(schemaLocation: JSONPointer, message: String) {
        self.schemaLocation = schemaLocation
        self.message = message
    }

    public var description: String {
        "invalid JSON Schema at \(schemaLocation.isRoot ? "the root" : "\"\(schemaLocation)\""): \(message)"
    }
}
