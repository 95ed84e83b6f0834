/// A run's budget as its history tells it: the limits as they stand and every gate with its decision.
public struct BudgetTimeline: Sendable, Hashable {
    /// The limits after every approved raise.
    public var limits: UsageLimits
    /// The currency of `money`, when money is limited.
    public var currency: String?
    /// Oldest first.
    public var gates: [Gate]

    public init(limits: UsageLimits, currency: String?, gates: [Gate]) {
        self.limits = limits
        self.currency = currency
        self.gates = gates
    }

    /// One budget gate: opened before `step`, decided (or not yet) by a person.
    public struct Gate: Sendable, Hashable {
        public var number: Int
        public var approvalID: String
        public var step: String
        public var summary: String
        public var openedAt: Timestamp
        public var decision: StepContext.Decision?
        public var actor: String?
        public var note: String?
        public var decidedAt: Timestamp?
        /// The limits the approval raised the budget to.
        public var raisedTo: UsageLimits?
    }
}

extension Usage: Encodable {
    /// Every dimension, zero included, so programs can rely on the shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: UsageKey.self)
        for dimension in UsageDimension.allCases {
            try container.encode(UsageAmount.json(self[dimension]).doubleValue, forKey: UsageKey(dimension))
        }
    }
}

extension UsageLimits: Encodable {
    /// Every dimension, `null` when it is not limited.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: UsageKey.self)
        for dimension in UsageDimension.allCases {
            try container.encode(self[dimension], forKey: UsageKey(dimension))
        }
    }
}

/// A dimension as a key of the `keel run show --json` document, camel-cased as its other keys are
/// (`machineMinutes`).
private struct UsageKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ dimension: UsageDimension) {
        stringValue = dimension == .machineMinutes ? "machineMinutes" : dimension.rawValue
    }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension BudgetTimeline: Encodable {
    private enum Key: String, CodingKey { case limits, currency, gates }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(limits, forKey: .limits)
        try container.encode(currency, forKey: .currency)
        try container.encode(gates, forKey: .gates)
    }
}

extension BudgetTimeline.Gate: Encodable {
    private enum Key: String, CodingKey {
        case number, approvalID, step, summary, openedAt, decision, actor, note, decidedAt, raisedTo
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(number, forKey: .number)
        try container.encode(approvalID, forKey: .approvalID)
        try container.encode(step, forKey: .step)
        try container.encode(summary, forKey: .summary)
        try container.encode(openedAt, forKey: .openedAt)
        try container.encode(decision?.rawValue, forKey: .decision)
        try container.encode(actor, forKey: .actor)
        try container.encode(note, forKey: .note)
        try container.encode(decidedAt, forKey: .decidedAt)
        try container.encode(raisedTo, forKey: .raisedTo)
    }
}
