/// An `agent` action with its templates evaluated, and the process that runs it: the adapter's argv, the
/// prompt (with an approver's change request appended) and the step's `env`.
public struct RenderedAgentAction: Sendable, Hashable {
    public var adapter: AgentAdapter
    public var prompt: String
    public var workingDirectory: String
    /// Program and leading arguments: the action's `command`, else the adapter's default program.
    public var command: [String]
    public var model: String?
    public var arguments: [String]
    /// The step's own `env`, before the variables Keel adds.
    public var environment: [String: String]
    public var timeout: FlowDuration?

    /// Evaluates every template of `action`; the first that fails is reported with its field.
    public init(_ action: AgentAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
        adapter = action.adapter
        prompt = try renderer.text(action.prompt, field: "prompt")
        workingDirectory = try renderer.text(action.workingDirectory, field: "working_dir")
        guard !workingDirectory.isEmpty else {
            throw StepRenderError(field: "working_dir", message: "the working copy's path is empty")
        }
        let program = action.command ?? action.adapter.defaultProgram.map { [$0] } ?? []
        (command, environment) = try renderer.process(command: program, env: action.env)
        if let template = action.model {
            let name = try renderer.text(template, field: "model")
            model = name.isEmpty ? nil : name
        }
        var rendered: [String] = []
        for (index, template) in action.arguments.enumerated() {
            rendered.append(try renderer.text(template, field: "args[\(index)]"))
        }
        arguments = rendered
        timeout = action.timeout
    }

    /// The prompt the agent gets: the rendered prompt, then, when an approver sent the run back to this
    /// step, their note, so the next attempt answers it.
    public func prompt(answering change: ChangeRequest?) -> String {
        guard let change else { return prompt }
        var text = prompt + "\n\n---\nA reviewer asked for changes (round \(change.round)"
        if let actor = change.actor { text += ", from \(actor)" }
        text += "):\n"
        text += change.note ?? "(no note)"
        return text
    }

    /// The process that runs the agent: the adapter's argv around `prompt`, the step's `env` (with
    /// `KEEL_AGENT_MODEL` for `custom`), the working copy, and, for `custom`, the prompt on standard input.
    public func process(prompt: String) -> RenderedRunAction {
        var argv = command
        var environment = environment
        var standardInput: [UInt8] = []
        let model = model.map { ["--model", $0] } ?? []
        switch adapter {
        case .claudeCode:
            argv +=
                ["-p", "--output-format", "stream-json", "--verbose"] + model + arguments + ["--", prompt]
        case .codex:
            argv += ["exec", "--json", "--full-auto"] + model + arguments + ["--", prompt]
        case .aider:
            argv +=
                [
                    "--message=\(prompt)", "--yes-always", "--no-auto-commits", "--no-pretty", "--no-stream",
                    "--no-check-update", "--no-show-release-notes", "--analytics-disable",
                ] + model + arguments
        case .custom:
            argv += arguments
            standardInput = Array(prompt.utf8)
            if let name = self.model { environment["KEEL_AGENT_MODEL"] = name }
        }
        return RenderedRunAction(
            arguments: argv, environment: environment, workingDirectory: workingDirectory,
            standardInput: standardInput, timeout: timeout)
    }
}
