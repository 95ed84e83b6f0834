/// Runs a program on a worker; the command is an argv list, never a shell string.
public struct RunAction: Sendable, Hashable {
    /// Program and arguments, each a template; at least one element.
    public var command: [String]
    /// Extra environment variables (values are templates).
    public var env: [String: String]
    public var workingDirectory: String?
    /// Template written to the program's standard input.
    public var stdin: String?
    /// Per-attempt limit; the process is killed when it passes.
    public var timeout: FlowDuration?
    /// Wait for a callback after the program exits 0 (`wait:` beside `run:`): the program hands its
    /// callback token to another system (a CI job, an agent API) and returns.
    public var wait: WaitCondition?

    public init(
        command: [String], env: [String: String] = [:], workingDirectory: String? = nil, stdin: String? = nil,
        timeout: FlowDuration? = nil, wait: WaitCondition? = nil
    ) {
        self.command = command
        self.env = env
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.timeout = timeout
        self.wait = wait
    }
}
