public import KeelCore

/// A run about to be created from an accepted trigger, with its first facts.
public struct NewRun: Sendable, Hashable {
    public var id: RunID
    public var flow: String
    public var version: Int
    public var input: JSONValue
    public var idempotencyKey: String
    public var correlationID: String
    public var actor: String
    /// The authenticated principal that triggered the run; nil when the publisher was not authenticated.
    public var requester: String?
    public var replyTo: String?
    public var traceparent: String?
    /// The run whose `flow` step asked for this one, and how deep that makes it.
    public var parent: RunParent?
    public var depth = 0

    public init(
        id: RunID, flow: String, version: Int, input: JSONValue, idempotencyKey: String,
        correlationID: String,
        actor: String, requester: String? = nil, replyTo: String? = nil, traceparent: String? = nil
    ) {
        self.requester = requester
        self.id = id
        self.flow = flow
        self.version = version
        self.input = input
        self.idempotencyKey = idempotencyKey
        self.correlationID = correlationID
        self.actor = actor
        self.replyTo = replyTo
        self.traceparent = traceparent
    }
}

extension NewRun {
    /// What the run's `run.triggered` fact carries.
    public var trigger: RunTrigger {
        RunTrigger(
            runID: id, flow: flow, version: version, input: input, actor: actor, requester: requester,
            correlationID: correlationID,
            idempotencyKey: idempotencyKey, replyTo: replyTo, traceparent: traceparent, parent: parent)
    }
}

/// One row of `run_history`, as the engine writes it: the fact's JSON plus the columns operators
/// filter on.
public struct HistoryEntry: Sendable, Hashable {
    /// e.g. `run.triggered`, `step.scheduled`.
    public var kind: String
    public var step: String?
    public var attempt: Int?
    public var actor: String?
    public var errorClass: String?
    /// The fact as JSON text.
    public var fact: String

    public init(
        kind: String, step: String? = nil, attempt: Int? = nil, actor: String? = nil,
        errorClass: String? = nil,
        fact: String
    ) {
        self.kind = kind
        self.step = step
        self.attempt = attempt
        self.actor = actor
        self.errorClass = errorClass
        self.fact = fact
    }
}

/// What creating a run did.
public enum RunCreation: Sendable, Hashable {
    /// A new run.
    case created(runID: RunID)
    /// The (flow, idempotency key) was seen before: this is that run, and nothing was written.
    case existing(runID: RunID, version: Int)

    public var runID: RunID {
        switch self {
        case .created(let id), .existing(let id, _): id
        }
    }
}
