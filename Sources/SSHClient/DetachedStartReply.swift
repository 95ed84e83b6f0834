/// What the script of ``ShellCommand/detachedOnce(_:pidFile:logFile:)`` answered, read from the last
/// non-empty line of its stdout only: a login rc file of the remote user may print before it.
enum DetachedStartReply: Sendable, Hashable {
    case started(Int32)
    case existing(Int32)
    case ended(Int32)
    /// The pid file stayed empty: an earlier start under it died before writing the pid.
    case stale

    /// nil when the last line is none of the answers.
    init?(stdout: String) {
        guard
            let line = stdout.split(whereSeparator: \.isNewline).last(where: {
                !$0.allSatisfy(\.isWhitespace)
            })
        else { return nil }
        let words = line.split(whereSeparator: \.isWhitespace)
        if words == ["stale"] {
            self = .stale
            return
        }
        guard words.count == 2, let pid = Int32(words[1]), pid > 0 else { return nil }
        switch words[0] {
        case "started": self = .started(pid)
        case "existing": self = .existing(pid)
        case "ended": self = .ended(pid)
        default: return nil
        }
    }
}
