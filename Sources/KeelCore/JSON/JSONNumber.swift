/// A JSON number kept as an exact decimal, so integers beyond 2^53 (and beyond Int64) and decimal
/// fractions survive parsing, comparison and serialization unchanged.
///
/// The value is stored normalised (`±digits × 10^exponent`, no leading or trailing zeros in `digits`,
/// no negative zero), so mathematically equal numbers are equal and hash alike: `1`, `1.0` and `10e-1`
/// are the same number, as JSON Schema requires.
public struct JSONNumber: Sendable, Hashable {
    /// True for numbers below zero (zero itself is never negative).
    let isNegative: Bool
    /// Significant decimal digits as ASCII, without leading or trailing zeros; `"0"` for zero.
    let digits: String
    /// Power of ten the digits are multiplied by.
    let exponent: Int

    /// Builds a normalised number from ASCII digits (any zeros allowed) and a power of ten.
    init(isNegative: Bool, rawDigits: some Collection<UInt8>, exponent: Int) {
        var start = rawDigits.startIndex
        while start != rawDigits.endIndex, rawDigits[start] == UInt8(ascii: "0") {
            rawDigits.formIndex(after: &start)
        }
        let significant = rawDigits[start...]
        guard !significant.isEmpty else {
            self.isNegative = false
            self.digits = "0"
            self.exponent = 0
            return
        }
        var trailingZeros = 0
        for byte in significant.reversed() {
            guard byte == UInt8(ascii: "0") else { break }
            trailingZeros += 1
        }
        self.isNegative = isNegative
        self.digits = String(decoding: significant.dropLast(trailingZeros), as: UTF8.self)
        self.exponent = exponent + trailingZeros
    }

    /// The number `value`.
    public init(_ value: Int) {
        self.init(isNegative: value < 0, rawDigits: Array(String(value.magnitude).utf8), exponent: 0)
    }

    /// The number `value`.
    public init(_ value: Int64) {
        self.init(isNegative: value < 0, rawDigits: Array(String(value.magnitude).utf8), exponent: 0)
    }

    /// The number `value`.
    public init(_ value: UInt64) {
        self.init(isNegative: false, rawDigits: Array(String(value).utf8), exponent: 0)
    }

    /// The shortest decimal that round-trips to `value`; nil for infinities and NaN, which JSON cannot
    /// represent.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.init(jsonText: value.description)
    }

    /// Parses a number written in JSON's number grammar (`-12.5e3`); nil for anything else.
    public init?(jsonText text: String) {
        let bytes = Array(text.utf8)
        let parsed: JSONNumber? = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONNumberReader(bytes: buffer, position: 0)
            guard let number = try? reader.read(), reader.position == buffer.count else { return nil }
            return number
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// True when the number has no fractional part (`1.0` included), the JSON Schema meaning of integer.
    public var isInteger: Bool { exponent >= 0 }

    /// The exact value as Int64 when it is an integer in Int64's range.
    public var int64Value: Int64? {
        guard isInteger, digits.utf8.count + exponent <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for byte in digits.utf8 {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            magnitude = sum
        }
        for _ in 0..<exponent {
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            magnitude = times10
        }
        if isNegative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The nearest Double (infinite when out of Double's range); exactness is lost beyond 2^53.
    public var doubleValue: Double {
        if let parsed = Double(description) { return parsed }
        return isNegative ? -.infinity : .infinity
    }

    /// True for zero.
    public var isZero: Bool { digits == "0" }

    /// Number of significant digits.
    var digitCount: Int { digits.utf8.count }

    /// The decimal exponent of the leading digit (`123` → 2, `0.05` → -2).
    var scientificExponent: Int { digitCount + exponent - 1 }
}

extension JSONNumber: Comparable {
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1 as `lhs` is below, equal to or above `rhs`, compared exactly.
    static func compare(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative ? -1 : 1 }
        let magnitude = compareMagnitude(lhs, rhs)
        return lhs.isNegative ? -magnitude : magnitude
    }

    private static func compareMagnitude(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        if lhs.isZero || rhs.isZero {
            if lhs.isZero && rhs.isZero { return 0 }
            return lhs.isZero ? -1 : 1
        }
        let lhsPosition = lhs.scientificExponent
        let rhsPosition = rhs.scientificExponent
        if lhsPosition != rhsPosition { return lhsPosition < rhsPosition ? -1 : 1 }
        // Same leading position: digit strings compare lexicographically (no trailing zeros, so a
        // proper prefix is the smaller number).
        var left = lhs.digits.utf8.makeIterator()
        var right = rhs.digits.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case let (l?, r?) where l != r: return l < r ? -1 : 1
            default: continue
            }
        }
    }
}

extension JSONNumber {
    /// True when `self / divisor` is an integer, decided exactly in decimal when the divisor has at
    /// most 18 significant digits (every realistic `multipleOf`), else through Double.
    func isMultiple(of divisor: JSONNumber) -> Bool {
        if isZero { return true }
        if divisor.isZero { return false }
        // self = A × 10^a, divisor = B × 10^b with A, B integers whose last digit is not zero.
        if exponent < divisor.exponent {
            // A / (B × 10^(b-a)) needs A divisible by 10^(b-a), impossible as A's last digit is not 0.
            return false
        }
        guard divisor.digitCount <= 18, let modulus = UInt64(divisor.digits) else {
            let quotient = doubleValue / divisor.doubleValue
            guard quotient.isFinite else { return false }
            // Every Double of magnitude 2^53 or more is an integer.
            return quotient.magnitude >= 0x1p53 || Double(Int64(quotient)) == quotient
        }
        // (A × 10^(a-b)) mod B, digit by digit, without ever forming the big numbers.
        var remainder: UInt64 = 0
        for byte in digits.utf8 {
            remainder = Self.mulMod(remainder, 10, modulus)
            remainder = (remainder + UInt64(byte - UInt8(ascii: "0"))) % modulus
        }
        let scale = Self.powMod(10, UInt64(exponent - divisor.exponent), modulus)
        return Self.mulMod(remainder, scale, modulus) == 0
    }

    private static func mulMod(_ a: UInt64, _ b: UInt64, _ m: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return m.dividingFullWidth((high: product.high % m, low: product.low)).remainder
    }

    private static func powMod(_ base: UInt64, _ power: UInt64, _ m: UInt64) -> UInt64 {
        var result: UInt64 = 1 % m
        var base = base % m
        var power = power
        while power > 0 {
            if power & 1 == 1 { result = mulMod(result, base, m) }
            base = mulMod(base, base, m)
            power >>= 1
        }
        return result
    }
}

extension JSONNumber: CustomStringConvertible {
    /// The canonical text, the shortest exact spelling: integers in plain digits unless that takes
    /// more than 20 zeros after the significant digits (`1e21` is `1e+21`, but
    /// `123456789012345678901234567890` stays as is); other numbers in plain notation while the
    /// leading digit's power of ten is in -7 < e < 21 (`0.000001`), else `d.ddde±x` (`1.5e-7`).
    public var description: String {
        if isZero { return "0" }
        var text = isNegative ? "-" : ""
        let count = digitCount
        let scientific = scientificExponent
        if exponent >= 0 && exponent <= 20 {
            text += digits
            text += String(repeating: "0", count: exponent)
        } else if exponent < 0 && scientific >= -6 && scientific < 21 {
            let integerDigits = count + exponent
            if integerDigits > 0 {
                let split = digits.utf8.index(digits.utf8.startIndex, offsetBy: integerDigits)
                text += digits[..<split]
                text += "."
                text += digits[split...]
            } else {
                text += "0."
                text += String(repeating: "0", count: -integerDigits)
                text += digits
            }
        } else {
            let first = digits.utf8.index(after: digits.utf8.startIndex)
            text += digits[..<first]
            if count > 1 {
                text += "."
                text += digits[first...]
            }
            text += scientific < 0 ? "e-" : "e+"
            text += String(scientific.magnitude)
        }
        return text
    }
}
