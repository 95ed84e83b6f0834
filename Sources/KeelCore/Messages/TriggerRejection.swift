/// Why a trigger did not become a run: what operators see in the dead letter's headers and in
/// `trigger_rejections`, and what the publisher gets on `reply_to`.
///
/// Messages name the field and what was expected; they describe values by type, never echo them.
public struct TriggerRejection: Error, Sendable, Hashable, Codable {
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        case malformedJSON = "malformed_json"
        /// The body is JSON but not a trigger (`field` says where).
        case invalidBody = "invalid_body"
        case unknownFlow = "unknown_flow"
        case noLiveRelease = "no_live_release"
        case unknownVersion = "unknown_version"
        /// The input does not satisfy the flow's schema (`errors` lists each problem).
        case invalidInput = "invalid_input"
        /// The trigger holds a value PostgreSQL cannot store (U+0000, a number beyond `numeric`):
        /// `field` names the field and `errors` the pointer into the input.
        case unstorableValue = "unstorable_value"
        /// The message's AMQP properties cannot be used (a correlation id holding U+0000...).
        case invalidProperties = "invalid_properties"
    }

    /// One schema violation in the input.
    public struct InputError: Sendable, Hashable, Codable {
        /// JSON Pointer into the input, e.g. `/task`.
        public var path: String
        /// The failing keyword, e.g. `maxLength`.
        public var keyword: String
        public var message: String

        public init(path: String, keyword: String, message: String) {
            self.path = path
            self.keyword = keyword
            self.message = message
        }
    }

    public var reason: Reason
    /// The body field at fault (`flow`, `input`, `draft`...); nil when the whole message is.
    public var field: String?
    public var message: String
    public var errors: [InputError]

    public init(reason: Reason, field: String? = nil, message: String, errors: [InputError] = []) {
        self.reason = reason
        self.field = field
        self.message = message
        self.errors = errors
    }

    /// A value of the input that PostgreSQL cannot store, located by its pointer into the input.
    public static func unstorableInput(_ problem: UnstorableValue) -> TriggerRejection {
        TriggerRejection(
            reason: .unstorableValue, field: "input", message: "the input cannot be stored: \(problem)",
            errors: [
                InputError(
                    path: problem.pointer.description.storable, keyword: "unstorable", message: "\(problem)")
            ])
    }

    /// The input's schema violations as a rejection.
    public static func invalidInput(_ problems: [JSONSchemaValidationError]) -> TriggerRejection {
        TriggerRejection(
            reason: .invalidInput, field: "input",
            message: "the input does not match the flow's input schema: "
                + (problems.first.map { "\($0)" } ?? "invalid")
                + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""),
            errors: problems.map {
                InputError(path: $0.instanceLocation.description, keyword: $0.keyword, message: $0.message)
            })
    }
}
