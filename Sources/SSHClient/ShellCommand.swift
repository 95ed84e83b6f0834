/// Builds the command lines sent to the remote login shell (assumed POSIX: sh, bash, dash, zsh, ksh).
///
/// sshd normally refuses SSH "env" requests (AcceptEnv), so the environment is set by the command line
/// itself: `export NAME='value' ...` on a line before the command, with every value single-quoted (for
/// detached jobs, in a script sent on stdin to `sh -s` rather than in the command line: see
/// ``scriptFromStdin``). That
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

    /// The command line of a script sent on stdin (``script(_:)``): constant, so what the script
    /// exports (a token) never appears in a process's arguments, which every user of the host can read
    /// in `ps` or `/proc/<pid>/cmdline`. The script must not let its commands read stdin (the rest of the
    /// script is there): the detached ones read `/dev/null`.
    static let scriptFromStdin = "exec sh -s"

    /// `lines` as the stdin of ``scriptFromStdin``.
    static func script(_ lines: String) -> [UInt8] {
        Array(lines.utf8) + [UInt8(ascii: "\n")]
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

    /// Like ``detached(_:logFile:)``, but at most once per `pidFile`: the pid file is created with
    /// noclobber (`set -C`) before the job starts, so of two concurrent or repeated requests only one starts
    /// it; the other waits (up to 20 s) for the pid. The pid file's folder is created; the log file is
    /// created readable by its owner only (if that fails, the pid file is removed again: nothing started).
    ///
    /// The last line printed is one of: `started <pid>` (started now); `existing <pid>` (started earlier
    /// and `kill -0` still reaches it, not as a zombie); `ended <pid>` (started earlier, no longer
    /// running); `stale` (the pid file stayed empty: an earlier start died between creating it and
    /// writing the pid).
    static func detachedOnce(_ command: String, pidFile: String, logFile: String?) throws(Invalid) -> String {
        guard !command.utf8.contains(0) else { throw .nulByte("the command") }
        guard !pidFile.utf8.contains(0), !pidFile.isEmpty else { throw .nulByte("the pid file path") }
        let output = logFile ?? "/dev/null"
        guard !output.utf8.contains(0) else { throw .nulByte("the log file path") }
        let pid = quote(pidFile)
        let log = quote(output)
        return """
            mkdir -p -- "$(dirname -- \(pid))" || exit 1
            if ( set -C; : >\(pid) ) 2>/dev/null; then
              ( umask 077; : >>\(log) ) || { rm -f -- \(pid); exit 1; }
              setsid sh -c \(quote(command)) </dev/null >>\(log) 2>&1 &
              job=$!
              echo "$job" >\(pid) || { kill -s KILL -- "-$job" 2>/dev/null; rm -f -- \(pid); exit 1; }
              echo "started $job"
            else
              i=0
              while [ ! -s \(pid) ] && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done
              job=$(cat -- \(pid) 2>/dev/null)
              case "$job" in ''|*[!0-9]*) echo stale; exit 0;; esac
              state=ended
              if kill -0 "$job" 2>/dev/null; then
                state=existing
                if read -r line <"/proc/$job/stat" 2>/dev/null; then
                  set -- ${line##*") "}
                  [ "$1" = Z ] && state=ended
                fi
              fi
              echo "$state $job"
            fi
            """
    }

    /// Stops the process group whose leader's pid is in `pidFile`: TERM to the group, up to `grace`
    /// seconds for all of it to end, then KILL to the group. A group counts as running while a member that
    /// is not a zombie is left (read from /proc; where there is none, while `kill -0` reaches the group).
    ///
    /// With `marker` (`NAME=value`), the group is signalled only if one of its processes has exactly that
    /// line in its environment (`/proc/<pid>/environ`, so Linux and the session's own user only): a pid
    /// reused by another job is left alone. Prints one word: `absent`, `gone`, `foreign` (running, but
    /// without the marker), `terminated` or `killed`. The pid file stays, so a repeated start finds it.
    static func stopDetached(pidFile: String, grace: Int, marker: String? = nil) throws(Invalid) -> String {
        guard !pidFile.utf8.contains(0), !pidFile.isEmpty else { throw .nulByte("the pid file path") }
        if let marker {
            guard !marker.utf8.contains(0) else { throw .nulByte("the environment marker") }
            guard let equals = marker.firstIndex(of: "="), isIdentifier(String(marker[..<equals])),
                !marker.utf8.contains(UInt8(ascii: "\n"))
            else { throw .variableName(String(marker.prefix { $0 != "=" })) }
        }
        let file = quote(pidFile)
        let ownership =
            marker.map { marker in
                """
                owned() {
                  for stat in /proc/[0-9]*/stat; do
                    read -r line <"$stat" 2>/dev/null || continue
                    set -- ${line##*") "}
                    [ "$3" = "$pid" ] || continue
                    tr '\\0' '\\n' <"${stat%/stat}/environ" 2>/dev/null | grep -qxF -- \(quote(marker)) && return 0
                  done
                  return 1
                }
                owned || { echo foreign; exit 0; }

                """
            } ?? ""
        return """
            [ -s \(file) ] || { echo absent; exit 0; }
            pid=$(cat \(file))
            case "$pid" in ''|*[!0-9]*) echo absent; exit 0;; esac
            running() {
              if [ -r /proc/self/stat ]; then
                for stat in /proc/[0-9]*/stat; do
                  read -r line <"$stat" 2>/dev/null || continue
                  set -- ${line##*") "}
                  [ "$1" != Z ] && [ "$3" = "$pid" ] && return 0
                done
                return 1
              fi
              kill -0 -- "-$pid" 2>/dev/null
            }
            running || { echo gone; exit 0; }
            \(ownership)kill -s TERM -- "-$pid" 2>/dev/null
            i=0
            while running && [ $i -lt \(max(0, grace) * 5) ]; do sleep 0.2 2>/dev/null || sleep 1; i=$((i+1)); done
            if running; then kill -s KILL -- "-$pid" 2>/dev/null; echo killed; else echo terminated; fi
            """
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
