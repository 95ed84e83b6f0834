/// Runs a command on a host Keel knows by name (credentials live in Keel's host registry).
///
/// With `wait`, the command only starts the job; the step then waits for its callback, as a
/// long benchmark on a VM does.
public struct SSHAction: Sendable, Hashable {
    /// Template of the registered host's name.
    public var host: String
    /// Program and arguments, each a template, quoted for the remote shell by the executor.
    public var command: [String]
    public var env: [String: String]
    /// Per-attempt limit for the command itself.
    public var timeout: FlowDuration?
    /// Wait for a callback after the command returns.
    public var wait: WaitCondition?

    public init(
        host: String, command: [String], env: [String: String] = [:], timeout: FlowDuration? = nil,
        wait: WaitCondition? = nil
    ) {
        self.host = host
        self.command = command
        self.env = env
        self.timeout = timeout
        self.wait = wait
    }
}
