/// Quoting for the remote POSIX shell, for callers that build command lines themselves (an argv
/// turned into one command for ``SSHSession/startDetached(_:environment:logFile:)``).
public enum ShellWords {
    /// `value` as one shell word, taken literally (quotes, `$`, backslashes, newlines included).
    public static func quote(_ value: String) -> String { ShellCommand.quote(value) }

    /// The arguments as one command line that runs exactly that argv.
    public static func join(_ arguments: [String]) -> String {
        arguments.map(ShellCommand.quote).joined(separator: " ")
    }
}
