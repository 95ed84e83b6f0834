/// An `ssh` action with its templates evaluated: the host's name, the argv and the step's `env`.
public struct RenderedSSHAction: Sendable, Hashable {
    public var host: String
    public var arguments: [String]
    /// The step's own `env`, before the variables Keel adds.
    public var environment: [String: String]

    /// Evaluates every template of `action`; the first that fails is reported with its field.
    public init(_ action: SSHAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
        host = try renderer.text(action.host, field: "host")
        guard !host.isEmpty else { throw StepRenderError(field: "host", message: "the host is empty") }
        (arguments, environment) = try renderer.process(command: action.command, env: action.env)
    }
}
