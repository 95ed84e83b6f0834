import KeelCore

/// A `run` action with its templates evaluated: what the process is started with.
struct RenderedRunAction: Sendable {
    var arguments: [String]
    /// The step's own `env`, before the variables Keel adds.
    var environment: [String: String]
    var workingDirectory: String?
    var standardInput: [UInt8]
    /// Per attempt; the process group is stopped when it passes.
    var timeout: FlowDuration?

    /// Evaluates every template of `action`; the first that fails is reported with its field.
    init(_ action: RunAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
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
        if let template = action.workingDirectory {
            let directory = try renderer.text(template, field: "working_dir")
            workingDirectory = directory.isEmpty ? nil : directory
        }
        if let template = action.stdin {
            standardInput = Array(try renderer.text(template, field: "stdin").utf8)
        } else {
            standardInput = []
        }
        timeout = action.timeout
    }
}
