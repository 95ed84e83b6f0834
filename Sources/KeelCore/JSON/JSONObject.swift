/// A JSON object: unique keys in insertion order, compared and hashed without regard to that order.
///
/// Keys are compared code point by code point (not by Swift's canonical equivalence), as JSON
/// requires: `"\u00e4"` and `"a\u0308"` are two different keys.
public struct JSONObject: Sendable {
    private var storedKeys: [String]
    private var storedValues: [JSONValue]
    private var index: [ExactString: Int]

    /// An empty object.
    public init() {
        storedKeys = []
        storedValues = []
        index = [:]
    }

    /// An object with `members` in order; a repeated key keeps its first position and its last value.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in members { self[key] = value }
    }

    /// The keys in insertion order.
    public var keys: [String] { storedKeys }

    /// The values in key order.
    public var values: [JSONValue] { storedValues }

    /// The value for `key`, nil when absent; assigning nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = index[ExactString(key)] else { return nil }
            return storedValues[position]
        }
        set {
            if let newValue {
                if let position = index[ExactString(key)] {
                    storedValues[position] = newValue
                } else {
                    index[ExactString(key)] = storedKeys.count
                    storedKeys.append(key)
                    storedValues.append(newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Whether `key` is present.
    public func contains(key: String) -> Bool { index[ExactString(key)] != nil }

    /// The position of `key` in insertion order.
    func position(of key: String) -> Int? { index[ExactString(key)] }

    /// Adds `value` under a key known to be absent; returns false (and changes nothing) if present.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        guard index.updateValue(storedKeys.count, forKey: ExactString(key)) == nil else { return false }
        storedKeys.append(key)
        storedValues.append(value)
        return true
    }

    /// Removes `key`, returning its value if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = index.removeValue(forKey: ExactString(key)) else { return nil }
        storedKeys.remove(at: position)
        let removed = storedValues.remove(at: position)
        for later in position..<storedKeys.count {
            index[ExactString(storedKeys[later])] = later
        }
        return removed
    }
}

extension JSONObject: RandomAccessCollection {
    public typealias Element = (key: String, value: JSONValue)

    public var startIndex: Int { 0 }
    public var endIndex: Int { storedKeys.count }
    public subscript(position: Int) -> Element { (storedKeys[position], storedValues[position]) }
}

extension JSONObject: Hashable {
    /// Equal when both hold the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes with a commutative sum.
        var sum = 0
        for (key, value) in self {
            var member = Hasher()
            member.combine(ExactString(key))
            member.combine(value)
            sum = sum &+ member.finalize()
        }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

/// A string compared and hashed by its Unicode scalars (UTF-8 bytes), not by canonical equivalence.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(string.utf8.count)
    }
}
