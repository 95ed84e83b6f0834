/// Everything a finished remote command produced, as returned by ``SSHSession/execute(_:environment:timeout:)``.
public struct SSHCommandResult: Sendable, Hashable {
    /// The command's standard output, byte for byte.
    public var stdout: [UInt8]
    /// The command's standard error, byte for byte.
    public var stderr: [UInt8]
    /// The exit status; for a command killed by a signal, 128 + the signal's number as a POSIX shell
    /// reports it (`TERM` gives 143), or -1 for a signal without a portable number.
    public var exitStatus: Int32
    /// The name of the signal that killed the command (`"TERM"`, `"KILL"`, ...), if one did.
    public var exitSignal: String?

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, exitSignal: String? = nil) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
    }

    /// Standard output decoded as UTF-8 (invalid sequences replaced), for text-producing commands.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// Standard error decoded as UTF-8 (invalid sequences replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
