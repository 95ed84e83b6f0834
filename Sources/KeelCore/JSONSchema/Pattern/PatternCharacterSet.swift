/// A set of Unicode scalars a single pattern position may match: a bracketed class, `.`, or one of
/// the class escapes (`\d`, `\w`, `\s`, `\p{…}` and their negations), with ECMA-262 `u`-flag meaning:
/// `\d` and `\w` are ASCII only, `\s` is ECMAScript's white space and line terminators.
struct PatternCharacterSet: Sendable, Equatable {
    /// One member of a class.
    enum Item: Sendable, Equatable {
        /// Scalar values `lower...upper`.
        case range(UInt32, UInt32)
        /// `\d`, `\w`, `\s`, `\p{…}`, or their negations when `negated` is true.
        case escape(PatternClassEscape, negated: Bool)
    }

    var items: [Item]
    /// `[^…]`: matches what none of the items match.
    var negated: Bool

    /// `.`: anything but a line terminator.
    static let dot = PatternCharacterSet(
        items: [.range(0x0A, 0x0A), .range(0x0D, 0x0D), .range(0x2028, 0x2029)], negated: true)

    static func escape(_ escape: PatternClassEscape, negated: Bool) -> PatternCharacterSet {
        PatternCharacterSet(items: [.escape(escape, negated: negated)], negated: false)
    }

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        var found = false
        for item in items {
            switch item {
            case .range(let lower, let upper):
                found = value >= lower && value <= upper
            case .escape(let escape, let negated):
                found = escape.contains(scalar) != negated
            }
            if found { break }
        }
        return found != negated
    }
}

/// The class escapes: `\d`, `\w`, `\s` and the Unicode property escapes `\p{…}`.
enum PatternClassEscape: Sendable, Equatable {
    case digit
    case word
    case space
    case property(PatternUnicodeProperty)

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        switch self {
        case .digit:
            return scalar.value >= 0x30 && scalar.value <= 0x39
        case .word:
            return Self.isWord(scalar.value)
        case .space:
            return Self.isSpace(scalar)
        case .property(let property):
            return property.contains(scalar)
        }
    }

    /// ECMAScript's word characters: `[A-Za-z0-9_]`, which `\b` also uses.
    static func isWord(_ value: UInt32) -> Bool {
        switch value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        default: return false
        }
    }

    /// ECMAScript's `WhiteSpace` and `LineTerminator`.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0xFEFF, 0x2028, 0x2029: return true
        default: return scalar.properties.generalCategory == .spaceSeparator
        }
    }
}
