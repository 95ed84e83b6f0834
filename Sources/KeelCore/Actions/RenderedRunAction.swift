/// A `run` action with its templates evaluated: what the process is started with.
public struct RenderedRunAction: Sendable, Hashable {
    public var arguments: [String]
    /// The step's own `env`, before the variables Keel adds.
    public var environment: [String: String]
    public var workingDirectory: String?
    public var standardInput: [UInt8]
    /// Per attempt; the process group is stopped when it passes.
    public var timeout: FlowDuration?

    public init(
        arguments: [String], environment: [String: String], workingDirectory: String?, standardInput: [UInt8],
        timeout: FlowDuration?
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.standardInput = standardInput
        self.timeout = timeout
    }

    /// Evaluates every template of `action`; the first that fails is reported with its field.
    public init(_ action: RunAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
        (arguments, environment) = try renderer.process(command: action.command, env: action.env)
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
