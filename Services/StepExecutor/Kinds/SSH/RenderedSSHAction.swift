import KeelCore

/// An `ssh` action with its templates evaluated: the host's name, the argv and the step's `env`.
struct RenderedSSHAction: Sendable {
    var host: String
    var arguments: [String]
    /// The step's own `env`, before the variables Keel adds.
    var environment: [String: String]

    /// Evaluates every template of `action`; the first that fails is reported with its field.
    init(_ action: SSHAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
        host = try renderer.text(action.host, field: "host")
        guard !host.isEmpty else { throw StepRenderError(field: "host", message: "the host is empty") }
        var arguments: [String] = []
        for (index, element) in action.command.enumerated() {
            arguments.append(try renderer.text(element, field: "command[\(index)]"))
        }
        guard let program = arguments.first, !program.isEmpty else {
            throw StepRenderError(field: "command[0]", message: "the program is empty")
        }
        var environment: [String: String] = [:]
        for name in action.env.keys.sorted() {
            environment[name] = try renderer.text(action.env[name] ?? "", field: "env.\(name)")
        }
        self.arguments = arguments
        self.environment = environment
    }
}
