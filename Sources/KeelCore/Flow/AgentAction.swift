/// Runs a coding agent's command-line tool on a working copy and records what it did: its transcript, the
/// diff it left, the files it changed, its final message and what it spent.
///
/// The agent is an untrusted step, run as a `run` step is (argv, no shell, the step's `env` and nothing of
/// the executor's own environment), so it has exactly the secrets the flow hands it in `env`.
public struct AgentAction: Sendable, Hashable {
    /// Which command-line tool runs, and so how its arguments are built and its transcript read.
    public var adapter: AgentAdapter
    /// Template of the task given to the agent. An approver's `request_changes` note is appended to it.
    public var prompt: String
    /// Template of the working copy the agent acts on: a git working tree whose changes against `HEAD`
    /// become the step's `diff`.
    public var workingDirectory: String
    /// Program and leading arguments (templates) that start the tool; the adapter's default program
    /// (`claude`, `codex`, `aider`) when absent. Required for `custom`.
    public var command: [String]?
    /// Template of the model name, passed as the tool's `--model` (to `custom` as `KEEL_AGENT_MODEL`).
    public var model: String?
    /// Further arguments for the tool (templates), placed after the adapter's own.
    public var arguments: [String]
    /// Extra environment variables (values are templates): the agent's API key, typically.
    public var env: [String: String]
    /// Per attempt; the tool's process group is stopped when it passes.
    public var timeout: FlowDuration?

    public init(
        adapter: AgentAdapter, prompt: String, workingDirectory: String, command: [String]? = nil,
        model: String? = nil, arguments: [String] = [], env: [String: String] = [:],
        timeout: FlowDuration? = nil
    ) {
        self.adapter = adapter
        self.prompt = prompt
        self.workingDirectory = workingDirectory
        self.command = command
        self.model = model
        self.arguments = arguments
        self.env = env
        self.timeout = timeout
    }
}

/// The agent command-line tools Keel knows how to start and read (docs/agents.md).
public enum AgentAdapter: String, Sendable, Hashable, CaseIterable {
    /// Claude Code's print mode: `claude -p --output-format stream-json --verbose -- PROMPT`.
    case claudeCode = "claude-code"
    /// OpenAI Codex CLI's exec mode: `codex exec --json --full-auto -- PROMPT`.
    case codex
    /// aider's message mode: `aider --message=PROMPT --yes-always --no-auto-commits ...`.
    case aider
    /// Any program that follows Keel's small contract: the prompt on standard input, its transcript on
    /// standard output, its final message and usage in `$KEEL_OUTPUT`.
    case custom

    /// The program started when the action names none; nil for `custom`, which must name one.
    public var defaultProgram: String? {
        switch self {
        case .claudeCode: "claude"
        case .codex: "codex"
        case .aider: "aider"
        case .custom: nil
        }
    }

    /// The media type of the stored transcript: JSON lines for the tools that stream events.
    public var transcriptMediaType: String {
        switch self {
        case .claudeCode, .codex: "application/x-ndjson"
        case .aider, .custom: "text/plain"
        }
    }
}
