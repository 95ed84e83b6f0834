/// What a step attempt spent, or what a run spent in all: tokens, machine minutes and money.
///
/// Steps report it (a `run` step's outputs file, a callback's payload, an `http` step's response), the
/// executor adds the wall time of `run` and `ssh` attempts, and the history keeps it as
/// `usage.recorded` facts; `RunState.usage` is their sum. Every amount is finite and not negative.
public struct Usage: Sendable, Hashable {
    public var tokens: Double
    public var machineMinutes: Double
    public var money: Double

    /// The largest amount one report may carry: far beyond any real spend, small enough to add up safely.
    public static let maximumAmount = 1e15

    public static let zero = Usage()

    public init(tokens: Double = 0, machineMinutes: Double = 0, money: Double = 0) {
        self.tokens = tokens
        self.machineMinutes = machineMinutes
        self.money = money
    }

    public subscript(dimension: UsageDimension) -> Double {
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

    /// True when nothing was spent.
    public var isZero: Bool { UsageDimension.allCases.allSatisfy { self[$0] == 0 } }

    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        var sum = lhs
        for dimension in UsageDimension.allCases { sum[dimension] += rhs[dimension] }
        return sum
    }

    public static func += (lhs: inout Usage, rhs: Usage) { lhs = lhs + rhs }

    /// `{"tokens": …, "machine_minutes": …, "money": …}` with the amounts that are not zero.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        for dimension in UsageDimension.allCases where self[dimension] != 0 {
            object[dimension.rawValue] = .number(UsageAmount.json(self[dimension]))
        }
        return .object(object)
    }

    /// Reads a usage report: an object whose keys are dimensions and whose values are finite numbers
    /// from 0 to `maximumAmount`. `field` names the object in errors (`usage`, `output.usage`).
    public init(json: JSONValue, field: String) throws(UsageProblem) {
        guard case .object(let object) = json else {
            throw UsageProblem(field: field, message: "expected an object; got \(json.typeName)")
        }
        self.init()
        for (key, value) in object {
            let path = "\(field).\(key)"
            guard let dimension = UsageDimension(rawValue: key) else {
                let known = UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")
                throw UsageProblem(
                    field: path, key: key, message: "unknown usage key; expected one of \(known)")
            }
            guard case .number(let number) = value else {
                throw UsageProblem(field: path, key: key, message: "expected a number; got \(value.typeName)")
            }
            let amount = number.doubleValue
            guard amount.isFinite, amount >= 0, amount <= Self.maximumAmount else {
                throw UsageProblem(
                    field: path, key: key, message: "expected a finite number from 0 to 1e15; got \(number)")
            }
            self[dimension] = amount
        }
    }
}

extension Usage {
    /// Short text for people: `1.9M of 2M tokens, 3.5 machine minutes, 0.42 of 25 USD`; each dimension
    /// spent or limited, `none` when there is none.
    public func text(limits: UsageLimits?, currency: String?) -> String {
        let parts = UsageDimension.allCases.compactMap { dimension -> String? in
            let limit = limits?[dimension]
            guard self[dimension] > 0 || limit != nil else { return nil }
            let unit = dimension == .money ? (currency ?? "money") : dimension.unit
            let spent = UsageAmount.text(self[dimension])
            return limit.map { "\(spent) of \(UsageAmount.text($0)) \(unit)" } ?? "\(spent) \(unit)"
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// Why a usage report was refused; `field` is the JSON path of the offending member.
public struct UsageProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    /// The member of the usage object at fault; nil when the object itself is.
    public var key: String?
    public var message: String

    public init(field: String, key: String? = nil, message: String) {
        self.field = field
        self.key = key
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Amounts as JSON numbers and as text for people.
enum UsageAmount {
    /// An integral amount as an integer, anything else as the nearest decimal.
    static func json(_ amount: Double) -> JSONNumber {
        if amount == amount.rounded(), abs(amount) < 9e15 { return JSONNumber(Int64(amount)) }
        return JSONNumber(amount) ?? JSONNumber(0)
    }

    /// Short text: `1.9M`, `2M`, `12.5K`, `120`, `0.12`; at most one decimal above a thousand, two below.
    static func text(_ amount: Double) -> String {
        let scaled: (Double, String) =
            amount >= 1e9
            ? (amount / 1e9, "G")
            : amount >= 1e6 ? (amount / 1e6, "M") : amount >= 1e4 ? (amount / 1e3, "K") : (amount, "")
        let places = scaled.1.isEmpty ? 100.0 : 10.0
        let rounded = (scaled.0 * places).rounded() / places
        var text = rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text + scaled.1
    }
}
