/// One event of a command run with ``SSHSession/stream(_:environment:timeout:)``.
///
/// Bytes of each stream arrive in order and unchanged; chunk boundaries are arbitrary. The relative order
/// of stdout and stderr chunks is the order the server sent them in. `.exit` is always the last element.
public enum SSHOutput: Sendable, Hashable {
    case stdout([UInt8])
    case stderr([UInt8])
    /// The command's exit status; see ``SSHCommandResult/exitStatus`` for commands killed by a signal.
    case exit(Int32)
}
