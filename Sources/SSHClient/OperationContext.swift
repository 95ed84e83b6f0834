import Synchronization

/// A one-way flag set from any thread: an operation's Task was cancelled, or its session is closing.
final class InterruptFlag: Sendable {
    private let state = Atomic<Bool>(false)

    var isSet: Bool { state.load(ordering: .acquiring) }

    func set() { state.store(true, ordering: .releasing) }
}

/// Why an operation has to stop before it finished.
enum Interruption {
    case cancelled
    case sessionClosing
    case deadlineExpired
}

/// The limits of one operation on a session's queue: its deadline and what can interrupt it.
struct OperationContext: Sendable {
    /// Set by the Task's cancellation handler (or the stream's termination).
    let cancellation: InterruptFlag
    /// Set by ``SSHSession/close()``; nil for cleanup work that must finish even while closing.
    let closing: InterruptFlag?
    let deadline: ContinuousClock.Instant?
    /// What the operation is, for a timeout message: "connecting", "running the command", ...
    let activity: String

    init(
        activity: String, deadline: ContinuousClock.Instant?,
        cancellation: InterruptFlag = InterruptFlag(),
        closing: InterruptFlag?
    ) {
        self.activity = activity
        self.deadline = deadline
        self.cancellation = cancellation
        self.closing = closing
    }

    /// A short, uninterruptible context for best-effort cleanup after a failure.
    static func cleanup(_ activity: String, within duration: Duration) -> OperationContext {
        OperationContext(activity: activity, deadline: .now + duration, closing: nil)
    }

    var interruption: Interruption? {
        if cancellation.isSet { return .cancelled }
        if closing?.isSet == true { return .sessionClosing }
        if let deadline, ContinuousClock.now >= deadline { return .deadlineExpired }
        return nil
    }

    /// How long one `poll` may block: until the deadline, and never more than a second so that a lost
    /// wake-up costs at most that.
    var pollTimeoutMilliseconds: Int32 {
        guard let deadline else { return 1000 }
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(min(milliseconds, 1000))
    }
}
