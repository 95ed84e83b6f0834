/// What happened in a run, arranged for people: the trigger, then each step with its attempts, their
/// times, outcomes, errors and the engine's decisions about them.
///
/// Built from the run's history by `init(flow:history:)`, folding the facts exactly as the engine does
/// (a fact `RunState.accepts` refuses, such as a duplicate or late result, leaves no trace). No I/O and
/// no clock: every time is a fact's `at`. `keel run show` prints it; its JSON is documented in
/// docs/cli.md.
public struct RunTimeline: Sendable, Hashable {
    /// Where the run stands, as `runs.status` spells it.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Triggered, no step begun yet.
        case pending
        /// Some step is scheduled, running or waiting to be retried.
        case running
        /// Nothing is in flight but a callback or an approval.
        case waiting
        case succeeded
        case failed
        case cancelled
    }

    public var runID: RunID
    public var flow: String
    public var version: Int
    public var status: Status
    /// Set once the run finished (cleared again by a retry from a step).
    public var outcome: RunOutcome?
    /// Why it finished as it did, when it did not simply run out of work (a cancellation, a bad key).
    public var reason: String?
    /// The run's pass: 1, then one more per accepted retry from a step.
    public var pass: Int
    public var trigger: Trigger
    /// The `at` of `run.triggered`: the origin of every offset `keel run show` prints.
    public var triggeredAt: Timestamp
    /// The `at` of the latest `run.finished`, while the run is finished.
    public var finishedAt: Timestamp?
    /// The latest accepted cancel request.
    public var cancellation: CancelRequest?
    /// Accepted retries from a step, oldest first.
    public var retries: [RetryRequest]
    /// Every step of the flow version, in declaration order.
    public var steps: [StepTimeline]
    /// The run whose `flow` step started this one, as its trigger recorded.
    public var parent: RunParent?
    /// The runs this one's `flow` steps started: not in its history (each child is a run of its own),
    /// so whoever reads the run adds them.
    public var children: [ChildRun] = []
    /// What the run spent: the sum of its `usage.recorded` facts.
    public var usage = Usage.zero
    /// The flow's budget, its limits as they stand and its gates; nil for a flow without one.
    public var budget: BudgetTimeline?

    /// `finishedAt − triggeredAt`, in milliseconds.
    public var durationMilliseconds: Int64? {
        finishedAt.map { $0.millisecondsSinceEpoch - triggeredAt.millisecondsSinceEpoch }
    }

    /// The step with this id.
    public func step(_ id: String) -> StepTimeline? {
        steps.first { $0.id == id }
    }

    /// Who started the run and with what.
    public struct Trigger: Sendable, Hashable {
        /// What the trigger claims; nil for a schedule.
        public var actor: String?
        /// Who the broker authenticated as the trigger's publisher; nil when nobody was.
        public var requester: String?
        public var correlationID: String
        public var idempotencyKey: String
        public var input: JSONValue

        /// The input as compact JSON, cut to at most `limit` characters (with `…`) for a header line.
        public func inputSummary(limit: Int = 100) -> String {
            let text = input.jsonString()
            guard text.count > limit else { return text }
            return String(text.prefix(max(0, limit - 1))) + "…"
        }
    }

    /// A run started by one of this run's `flow` steps.
    public struct ChildRun: Sendable, Hashable, Encodable {
        public var runID: RunID
        public var step: String
        public var flow: String
        public var status: String

        public init(runID: RunID, step: String, flow: String, status: String) {
            self.runID = runID
            self.step = step
            self.flow = flow
            self.status = status
        }

        private enum CodingKeys: String, CodingKey {
            case runID, step, flow, status
        }
    }

    /// `run.cancel_requested`, as accepted.
    public struct CancelRequest: Sendable, Hashable {
        public var at: Timestamp
        public var actor: String?
        public var reason: String
    }

    /// `run.retry_requested`, as accepted.
    public struct RetryRequest: Sendable, Hashable {
        public var at: Timestamp
        public var fromStep: String
        /// The pass that was retried; the run then runs in `pass + 1`.
        public var pass: Int
        public var actor: String?
    }
}

/// Why a history gives no timeline.
public enum RunTimelineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The history does not start with an accepted `run.triggered`.
    case notTriggered

    public var description: String {
        switch self {
        case .notTriggered: "the run's history has no run.triggered fact"
        }
    }
}
