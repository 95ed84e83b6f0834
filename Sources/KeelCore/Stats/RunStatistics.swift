/// `keel stats`: how a set of runs went, computed from their timelines and the flows' releases.
///
/// A pure fold: no I/O and no clock, every time is a fact's `at`, so a hand-built history gives
/// known figures. Each figure is defined in docs/cli.md (`keel stats`); `init(runs:releases:)`
/// computes them.
public struct RunStatistics: Sendable, Hashable {
    /// Runs by where they stand.
    public var runs: RunCounts
    /// `succeeded / (succeeded + failed + cancelled)`; nil when no run has finished.
    public var successRate: Double?
    /// Ended attempts by their error class.
    public var errorClasses: [ErrorClass: Int]
    /// The engine's retry decisions (`step.retry_scheduled`).
    public var retries: Int
    /// Accepted `keel run retry` requests.
    public var runRetries: Int
    /// Attempts an executor started: from its first start to the attempt's end.
    public var stepDuration: DurationSummary
    /// Attempts an executor started: from scheduled to the first start.
    public var queueTime: DurationSummary
    /// Waits a final callback answered: from the wait's opening to that callback.
    public var waitDuration: DurationSummary
    /// Approvals a person decided: from the request to the decision.
    public var approvalTurnaround: DurationSummary
    /// The same latencies, retries and failures per step, by flow then step id: which step is slow or
    /// flaky.
    public var steps: [StepFigures]
    /// One entry per flow version that ran or was released or rolled back, by flow then version.
    public var releases: [ReleaseFigures]
    /// Every failure episode, oldest first, recovered or not.
    public var recoveries: [Recovery]
    /// Over the recovered episodes: from the failed run's end to the recovering run's end.
    public var timeToRecover: DurationSummary
    /// What the runs spent in all (their `usage.recorded` facts).
    public var usage: Usage
    /// What each flow's runs spent, and their budget gates, by flow.
    public var flows: [FlowFigures]

    /// Runs by outcome.
    public struct RunCounts: Sendable, Hashable {
        public var total = 0
        public var succeeded = 0
        public var failed = 0
        public var cancelled = 0
        /// Not finished (pending, running, waiting, or being retried).
        public var unfinished = 0

        public init() {}
    }

    /// One step's attempts across the runs.
    public struct StepFigures: Sendable, Hashable {
        public var flow: String
        public var step: String
        /// The step's kind (`run`, `ssh`, `approval`…).
        public var kind: String
        public var attempts: Int
        /// The engine's retry decisions for this step.
        public var retries: Int
        /// Ended attempts by their error class.
        public var errorClasses: [ErrorClass: Int]
        public var duration: DurationSummary
        public var queueTime: DurationSummary
        /// What the step's attempts (a mapped step's: its elements') spent.
        public var usage: Usage = .zero
    }

    /// One flow's spending across the runs.
    public struct FlowFigures: Sendable, Hashable {
        public var flow: String
        /// Runs of the flow in the window.
        public var runs: Int
        public var usage: Usage
        /// The currency of `money` when the flow's budget limits money; nil otherwise.
        public var currency: String?
        /// Budget gates opened, and of those approved and rejected (the rest are undecided).
        public var budgetGates: Int
        public var budgetGatesApproved: Int
        public var budgetGatesRejected: Int
    }

    /// A flow version's adoption and rollbacks.
    public struct ReleaseFigures: Sendable, Hashable {
        public var flow: String
        public var version: Int
        /// Runs that pinned this version, by outcome.
        public var runs: RunCounts
        /// Releases and rollbacks that made this version live.
        public var madeLive: Int
        /// Rollbacks away from this version (`from_version` of a rollback).
        public var rollbacks: Int
    }

    /// A failure episode of a flow: it began when a failed run ended while the flow had no episode
    /// open, and ended when the next run of the flow (any version) succeeded.
    public struct Recovery: Sendable, Hashable {
        public var flow: String
        public var failedRunID: RunID
        public var failedVersion: Int
        public var failedAt: Timestamp
        /// Nil while the flow has not recovered.
        public var recoveredRunID: RunID?
        public var recoveredVersion: Int?
        public var recoveredAt: Timestamp?

        /// `recoveredAt − failedAt`, in milliseconds.
        public var milliseconds: Int64? {
            recoveredAt.map { $0.millisecondsSinceEpoch - failedAt.millisecondsSinceEpoch }
        }
    }
}
