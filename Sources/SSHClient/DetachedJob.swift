/// How ``SSHSession/startDetachedOnce(_:environment:pidFile:logFile:)`` found the job.
public struct DetachedStart: Sendable, Hashable {
    /// The pid of the job's process-group leader on the server.
    public var pid: Int32
    /// True when the pid file already named a job, so nothing new was started (a repeated request).
    public var alreadyStarted: Bool
    /// False when the job named by the pid file has ended (`kill -0` no longer reaches its pid).
    public var running: Bool

    public init(pid: Int32, alreadyStarted: Bool, running: Bool = true) {
        self.pid = pid
        self.alreadyStarted = alreadyStarted
        self.running = running
    }
}

/// What ``SSHSession/stopDetached(pidFile:grace:marker:)`` did.
public enum DetachedStop: String, Sendable, Hashable {
    /// No pid file, or an empty one: nothing was ever started under it.
    case notStarted
    /// The process group no longer existed.
    case alreadyEnded
    /// A process group with that pid runs, but none of its processes carries the expected environment
    /// marker: the pid was reused by another job, which was left alone (ours had ended).
    case foreign
    /// The group leader ended within the grace period after TERM.
    case terminated
    /// The group leader was still running after the grace period and got KILL.
    case killed
}
