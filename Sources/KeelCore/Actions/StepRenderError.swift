/// A template of the action that could not be evaluated: the step fails as `permanent`. The message
/// is the expression error's, which quotes only source text, never a value (so never a secret).
public struct StepRenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the action, e.g. `command[1]`, `env.TOKEN`, `body.items[0]`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
