/// How a failed attempt is retried: how often, how long to wait, and for which error classes.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first, 1…100.
    public var maxAttempts: Int
    public var backoff: Backoff
    /// Delay before the second attempt.
    public var initial: FlowDuration
    /// Cap on any delay.
    public var maximum: FlowDuration?
    /// Randomise each delay between zero and its computed value ("full jitter").
    public var jitter: Bool
    /// Error classes that are retried; others fail the step at once.
    public var on: Set<ErrorClass>

    public static let defaultInitial = FlowDuration(milliseconds: 1_000)
    public static let defaultOn: Set<ErrorClass> = [.transient, .timeout]

    public init(
        maxAttempts: Int, backoff: Backoff = .exponential, initial: FlowDuration = RetryPolicy.defaultInitial,
        maximum: FlowDuration? = nil, jitter: Bool = true, on: Set<ErrorClass> = RetryPolicy.defaultOn
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.on = on
    }

    public enum Backoff: String, Sendable, Hashable, CaseIterable {
        /// Every delay is `initial`.
        case fixed
        /// `initial`, then doubling, capped by `maximum`.
        case exponential
    }
}

/// Why an attempt failed, as the executor classifies it; retry policies select on it.
public enum ErrorClass: String, Sendable, Hashable, CaseIterable, Comparable {
    /// May succeed if tried again (network error, exit code 75, HTTP 503).
    case transient
    /// Will fail the same way again (bad input, exit code 1, HTTP 400).
    case permanent
    case timeout
    case cancelled

    public static func < (lhs: ErrorClass, rhs: ErrorClass) -> Bool { lhs.rawValue < rhs.rawValue }
}
