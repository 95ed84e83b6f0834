/// One attempt of one step of one run: the triple every attempt-scoped id is made of.
///
/// Its text forms (docs/history.md, "Identifiers") are stored in history, database rows and messages,
/// and are written and read here only: the idempotency key `<run>:<step>:<attempt>`, the wait id
/// `<run>:<step>:<attempt>:wait`, the approval id `<run>:<step>:<attempt>:approval`, the attempt's timers
/// `<run>:<step>:<attempt>:<purpose>`, and the holder
/// `<step>:<attempt>` of a step-scope concurrency slot (the slot's row names the run). A text parses only
/// when it is exactly what an id would write: a lower-case UUID run, a step without `:` or NUL, and an
/// attempt of 1 or more without sign or leading zeros.
public struct AttemptID: Sendable, Hashable, CustomStringConvertible {
    public let run: RunID
    /// The step's id; for an element of a mapped step, the element's (`tests[2]`).
    public let step: String
    /// 1 for the step's first attempt.
    public let attempt: Int

    public init(run: RunID, step: String, attempt: Int) {
        self.run = run
        self.step = step
        self.attempt = attempt
    }

    /// `<run>:<step>:<attempt>`: what the work gets to tell a repeat of this attempt
    /// (`KEEL_IDEMPOTENCY_KEY`, `Idempotency-Key`).
    public var idempotencyKey: String { "\(run):\(step):\(attempt)" }

    /// `<run>:<step>:<attempt>:wait`: the attempt's wait, and a child run's idempotency key (one child
    /// per attempt). Deterministic, so the step-executor can mint the callback token for a wait before
    /// the reducer opens it.
    public var waitID: String { idempotencyKey + ":" + Self.waitSuffix }

    /// `<run>:<step>:<attempt>:approval`: the approval requested for the attempt.
    public var approvalID: String { idempotencyKey + ":" + Self.approvalSuffix }

    /// `<run>:<step>:<attempt>:<purpose>`: a timer the run arms for the attempt (`queue-timeout`, `retry`,
    /// `wait-timeout`, `heartbeat:<n>`, `approval-timeout`, `approval-reminder`; `step-timeout` for the
    /// attempt that began the step's round).
    public func timerID(_ purpose: String) -> String { idempotencyKey + ":" + purpose }

    /// The attempt a timer id names and the timer's purpose; nil for the run's own timer
    /// (`<run>:run-timeout:<pass>`) and any other text.
    public static func timer(_ text: String) -> (attempt: AttemptID, purpose: String)? {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[3].isEmpty,
            let attempt = AttemptID(idempotencyKey: parts[0...2].joined(separator: ":"))
        else { return nil }
        return (attempt, String(parts[3]))
    }

    /// `<step>:<attempt>`: who holds a step-scope concurrency slot (the slot's row names the run).
    public var slotHolder: String { "\(step):\(attempt)" }

    /// The idempotency key.
    public var description: String { idempotencyKey }

    /// The attempt an idempotency key names; nil for any other text.
    public init?(idempotencyKey text: String) {
        self.init(text, suffix: nil)
    }

    /// The attempt a wait id names; nil for any other text.
    public init?(waitID text: String) {
        self.init(text, suffix: Self.waitSuffix)
    }

    /// The attempt an approval id names; nil for any other text, a budget gate's approval
    /// (`<run>:budget:<number>`) among them.
    public init?(approvalID text: String) {
        self.init(text, suffix: Self.approvalSuffix)
    }

    private static let waitSuffix = "wait"
    private static let approvalSuffix = "approval"

    private init?(_ text: String, suffix: String?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == (suffix == nil ? 3 : 4), suffix.map({ parts[3] == $0 }) ?? true,
            let run = RunID(String(parts[0])),
            !parts[1].isEmpty, !parts[1].utf8.contains(0),
            let attempt = Int(parts[2]), attempt > 0
        else { return nil }
        self.init(run: run, step: String(parts[1]), attempt: attempt)
        // Only the exact text: no upper-case run, `+1` or `01` that would name the same attempt.
        guard (suffix.map { idempotencyKey + ":" + $0 } ?? idempotencyKey) == text else { return nil }
    }
}
