/// Builds the command lines sent to the remote login shell (assumed POSIX: sh, bash, dash, zsh, ksh).
///
/// sshd normally refuses SSH "env" requests (AcceptEnv), so the environment is set by the command line
/// itself: `export NAME='value' ...` on a line before the command, with every value single-quoted. That
/// keeps the variables visible to the whole command, including `$NAME` expansions in it, and to anything
/// the command starts. Names must be shell identifiers; no string may contain a NUL byte.
enum ShellCommand {
    enum Invalid: Error {
        case variableName(String)
        case nulByte(String)
        case signalName(String)
        case processID(Int32)
    }

    /// `value` as one shell word, taken literally: quotes, `$`, backslashes and newlines included.
    ///
    /// Works on Unicode scalars, not Characters: a quote followed by a combining mark is one Character,
    /// but the shell still sees the quote byte.
    static func quote(_ value: String) -> String {
        var quoted = String.UnicodeScalarView()
        quoted.append("'")
        for scalar in value.unicodeScalars {
            if scalar == "'" {
                quoted.append(contentsOf: "'\\''".unicodeScalars)
            } else {
                quoted.append(scalar)
            }
        }
        quoted.append("'")
        return String(quoted)
    }

    /// The command preceded by the exports of `environment` (sorted by name, for reproducible logs).
    static func withEnvironment(_ command: String, _ environment: [String: String]) throws(Invalid)
        -> String
    {
        guard !command.utf8.contains(0) else { throw .nulByte("the command") }
        guard !environment.isEmpty else { return command }
        var exports = "export"
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard isIdentifier(name) else { throw .variableName(name) }
            guard !value.utf8.contains(0) else { throw .nulByte("the value of \(name)") }
            exports += " \(name)=\(quote(value))"
        }
        return exports + "\n" + command
    }

    /// Starts `command` with `sh -c` in a new session (setsid: its own process group, no controlling
    /// terminal), stdin from /dev/null and stdout/stderr appended to `logFile` (or /dev/null), in the
    /// background; the line then prints the detached process's pid and returns at once, so the SSH
    /// channel closes while the process keeps running. Needs `setsid` (util-linux) on the remote host.
    static func detached(_ command: String, logFile: String?) throws(Invalid) -> String {
        guard !command.utf8.contains(0) else { throw .nulByte("the command") }
        let output = logFile ?? "/dev/null"
        guard !output.utf8.contains(0) else { throw .nulByte("the log file path") }
        return "setsid sh -c \(quote(command)) </dev/null >>\(quote(output)) 2>&1 &\necho $!"
    }

    /// `kill` for one process, or for its whole process group (a detached process leads its own).
    static func kill(pid: Int32, signal: String, processGroup: Bool) throws(Invalid) -> String {
        guard pid > 0 else { throw .processID(pid) }
        var name = signal.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first),
            name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) })
        else { throw .signalName(signal) }
        return "kill -s \(name) -- \(processGroup ? "-" : "")\(pid)"
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || isASCIILetter(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || isASCIILetter($0) || ("0"..."9").contains($0)
        }
    }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }
}
