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

    public init(
        command: [String], env: [String: String] = [:], workingDirectory: String? = nil, stdin: String? = nil,
        timeout: FlowDuration? = nil
    ) {
        self.command = command
        self.env = env
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.timeout = timeout
    }
}
