/// A value PostgreSQL cannot store, and where it is: Keel refuses such values where they enter (a
/// trigger's input, a callback's output, a step's outputs) instead of letting the database refuse them
/// later, where a retry could never help.
///
/// PostgreSQL's `text` and `jsonb` hold no U+0000 (SQLSTATE 22P05), and `jsonb` numbers are `numeric`,
/// which holds at most 131,072 digits before the decimal point and 16,383 after (SQLSTATE 22003).
public struct UnstorableValue: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable {
        /// A string or object key holding U+0000.
        case nulCharacter = "nul_character"
        /// A number beyond what `numeric` holds.
        case numberOutOfRange = "number_out_of_range"
    }

    /// Where the value is, inside the document that was checked.
    public var pointer: JSONPointer
    public var reason: Reason

    public init(pointer: JSONPointer, reason: Reason) {
        self.pointer = pointer
        self.reason = reason
    }

    /// Names the place and the rule, never the value.
    public var description: String {
        // A pointer through a key holding U+0000 names it with U+FFFD: the description must be storable.
        let location = pointer.isRoot ? "the value" : "the value at \(pointer.description.storable)"
        switch reason {
        case .nulCharacter:
            return "\(location) holds the character U+0000, which PostgreSQL cannot store"
        case .numberOutOfRange:
            return "\(location) is a number too large or too precise for PostgreSQL's numeric type"
        }
    }
}

extension JSONValue {
    /// The first value inside this one that PostgreSQL cannot store, in document order, with its
    /// pointer below `base`; nil when all of it can be stored.
    public func firstUnstorableValue(under base: JSONPointer = .root) -> UnstorableValue? {
        switch self {
        case .null, .bool:
            return nil
        case .number(let number):
            return number.isStorable ? nil : UnstorableValue(pointer: base, reason: .numberOutOfRange)
        case .string(let text):
            return text.isStorable ? nil : UnstorableValue(pointer: base, reason: .nulCharacter)
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = element.firstUnstorableValue(under: base.appending(index: index)) {
                    return found
                }
            }
            return nil
        case .object(let object):
            for (key, value) in object {
                let pointer = base.appending(key)
                if !key.isStorable { return UnstorableValue(pointer: pointer, reason: .nulCharacter) }
                if let found = value.firstUnstorableValue(under: pointer) { return found }
            }
            return nil
        }
    }
}

extension JSONNumber {
    /// Whether PostgreSQL's `numeric` (what `jsonb` keeps numbers as) can hold it exactly.
    var isStorable: Bool {
        let integerDigits = digits.utf8.count + exponent
        return integerDigits <= 131_072 && -exponent <= 16_383
    }
}

extension String {
    /// False when the text holds U+0000, which PostgreSQL's `text` and `jsonb` cannot store.
    public var isStorable: Bool { !utf8.contains(0) }

    /// The text with every U+0000 replaced by U+FFFD: for what Keel records about a message it refuses
    /// (its correlation id, its headers), where the record matters more than the exact bytes.
    public var storable: String {
        guard !isStorable else { return self }
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars { scalars.append(scalar == "\u{0}" ? "\u{FFFD}" : scalar) }
        return String(scalars)
    }
}
