/// How much of each dimension a run may spend; a dimension without a limit is not limited.
public struct UsageLimits: Sendable, Hashable {
    public var tokens: Double?
    public var machineMinutes: Double?
    public var money: Double?

    public init(tokens: Double? = nil, machineMinutes: Double? = nil, money: Double? = nil) {
        self.tokens = tokens
        self.machineMinutes = machineMinutes
        self.money = money
    }

    public subscript(dimension: UsageDimension) -> Double? {
        get {
            switch dimension {
            case .tokens: tokens
            case .machineMinutes: machineMinutes
            case .money: money
            }
        }
        set {
            switch dimension {
            case .tokens: tokens = newValue
            case .machineMinutes: machineMinutes = newValue
            case .money: money = newValue
            }
        }
    }

    /// The limited dimensions, in `UsageDimension` order.
    public var dimensions: [UsageDimension] { UsageDimension.allCases.filter { self[$0] != nil } }

    /// The dimensions `usage` has used up: spent at least the limit.
    public func exhausted(by usage: Usage) -> [UsageDimension] {
        dimensions.filter { usage[$0] >= self[$0] ?? .infinity }
    }

    /// Each limited dimension raised by `raise`'s amount for it (a dimension `raise` leaves out stays).
    public func raised(by raise: UsageLimits) -> UsageLimits {
        var raised = self
        for dimension in dimensions {
            raised[dimension] = (self[dimension] ?? 0) + (raise[dimension] ?? 0)
        }
        return raised
    }

    /// `{"tokens": …, "machine_minutes": …, "money": …}` with the limited dimensions.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        for dimension in dimensions {
            if let limit = self[dimension] { object[dimension.rawValue] = .number(UsageAmount.json(limit)) }
        }
        return .object(object)
    }

    /// Reads `jsonValue`'s shape back (history and snapshots); unknown keys and non-numbers are ignored.
    public init(json: JSONValue) {
        self.init()
        for dimension in UsageDimension.allCases {
            if case .number(let number)? = json[dimension.rawValue] { self[dimension] = number.doubleValue }
        }
    }
}
