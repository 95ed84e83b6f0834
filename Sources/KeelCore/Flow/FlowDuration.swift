/// A length of time written as `500ms`, `5s`, `15m`, `2h`, `1d` or a combination (`1h30m`).
///
/// Units go from largest to smallest, each at most once; the value is kept in milliseconds and
/// always written back in its shortest form (`90m` → `1h30m`), so equal durations hash equally.
public struct FlowDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let milliseconds: Int64

    /// The longest accepted duration: 366 days.
    public static let maximum = FlowDuration(milliseconds: 366 * 86_400_000)

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Parses `1h30m`; nil for anything else (no spaces, signs, fractions or repeated units).
    public init?(parsing text: String) {
        var rest = Substring(text)
        var total: Int64 = 0
        var nextUnit = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(letters.count)
            guard let unit = Self.units.indices.first(where: { Self.units[$0].suffix == letters }),
                unit >= nextUnit
            else { return nil }
            nextUnit = unit + 1
            let (product, overflow) = amount.multipliedReportingOverflow(by: Self.units[unit].milliseconds)
            guard !overflow, product <= Self.maximum.milliseconds else { return nil }
            total += product
        }
        guard total <= Self.maximum.milliseconds else { return nil }
        self.milliseconds = total
    }

    /// The shortest text for this duration: `1h30m`, `500ms`, `0s`.
    public var description: String {
        guard milliseconds > 0 else { return "0s" }
        var rest = milliseconds
        var text = ""
        for unit in Self.units where rest >= unit.milliseconds {
            text += "\(rest / unit.milliseconds)\(unit.suffix)"
            rest %= unit.milliseconds
        }
        return text
    }

    /// The same length as a standard-library `Duration`.
    public var duration: Duration { .milliseconds(milliseconds) }

    public static func < (lhs: FlowDuration, rhs: FlowDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let duration = FlowDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a duration like 500ms, 5s, 15m, 2h, 1d or 1h30m")
        }
        self = duration
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
