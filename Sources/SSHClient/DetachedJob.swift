/// How ``SSHSession/startDetachedOnce(_:environment:pidFile:logFile:)`` found the job.
public struct DetachedStart: Sendable, Hashable {
    /// The pid of the job's process-group leader on the server.
    public var pid: Int32
    /// True when the pid file already named a job, so nothing new was started (a repeated request).
    public var alreadyStarted: Bool

    public init(pid: Int32, alreadyStarted: Bool) {
        self.pid = pid
        self.alreadyStarted = alreadyStarted
    }
}

/// What ``SSHSession/stopDetached(pidFile:grace:)`` did.
public enum DetachedStop: String, Sendable, Hashable {
    /// No pid file, or an empty one: nothing was ever started under it.
    case notStarted
    /// The process group no longer existed.
    case alreadyEnded
    /// The group leader ended within the grace period after TERM.
    case terminated
    /// The group leader was still running after the grace period and got KILL.
    case killed
}
