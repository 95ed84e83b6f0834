extension FlowDecoder {
    /// `agent: {adapter, prompt, working_dir, command, model, args, env, timeout}`: the tool, the task, the
    /// working copy it changes; `custom` must name its program.
    mutating func decodeAgent(_ node: SourceNode, _ path: String, step: Int) -> AgentAction? {
        let allowed = ["adapter", "prompt", "working_dir", "command", "model", "args", "env", "timeout"]
        guard let fields = fields(node, path, allowed: allowed) else { return nil }
        let errorCount = errors.count
        let adapter = required(fields, "adapter").flatMap {
            oneOf($0, fields.path("adapter"), AgentAdapter.allCases.map(\.rawValue))
                .flatMap(AgentAdapter.init(rawValue:))
        }
        let prompt = required(fields, "prompt").flatMap { template($0, fields.path("prompt"), step: step) }
        let workingDirectory = required(fields, "working_dir").flatMap {
            template($0, fields.path("working_dir"), step: step)
        }
        let command = fields["command"].flatMap { self.command($0, fields.path("command"), step: step) }
        if adapter == .custom, !fields.has("command") {
            fail(
                .missingField, at: fields.node.position, fields.path("command"),
                "expected a command for the custom adapter: the program that follows the agent contract")
        }
        let model = fields["model"].flatMap { template($0, fields.path("model"), step: step) }
        var arguments: [String] = []
        if let node = fields["args"], let elements = list(node, fields.path("args")) {
            for (index, element) in elements.enumerated() {
                let elementPath = FlowPath.index(fields.path("args"), index)
                if let argument = template(element, elementPath, step: step, acceptScalars: true) {
                    arguments.append(argument)
                }
            }
        }
        let env = fields["env"].flatMap { environment($0, fields.path("env"), step: step) } ?? [:]
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        guard errors.count == errorCount, let adapter, let prompt, let workingDirectory else { return nil }
        return AgentAction(
            adapter: adapter, prompt: prompt, workingDirectory: workingDirectory, command: command,
            model: model,
            arguments: arguments, env: env, timeout: timeout)
    }
}
