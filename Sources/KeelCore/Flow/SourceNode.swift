/// A YAML or JSON value with the place it was written, so every flow error can point at its source.
///
/// The decoder reads flows only through this type: YAML text becomes `SourceNode`s through
/// `YAMLSourceReader`, a canonical JSON value through `init(json:)` (without positions).
struct SourceNode: Sendable {
    enum Value: Sendable {
        /// A scalar with its resolved YAML 1.2 core-schema value.
        case scalar(Scalar)
        case mapping([Entry])
        case sequence([SourceNode])
    }

    enum Scalar: Sendable, Hashable {
        case null
        case bool(Bool)
        case number(JSONNumber)
        case string(String)
        /// A plain scalar that is a number but no JSON number (`.inf`, `.nan`).
        case nonFiniteNumber(String)
    }

    struct Entry: Sendable {
        var key: String
        var keyPosition: SourcePosition
        var value: SourceNode
    }

    var value: Value
    var position: SourcePosition
    /// A plain scalar's text as written (`8080`, `1.10`), for fields that take strings.
    var plainText: String? = nil

    /// The JSON type name used in "wrong type" messages.
    var typeName: String {
        switch value {
        case .mapping: "mapping"
        case .sequence: "list"
        case .scalar(.null): "null"
        case .scalar(.bool): "boolean"
        case .scalar(.number(let number)): number.isInteger ? "integer" : "number"
        case .scalar(.nonFiniteNumber): "number"
        case .scalar(.string): "string"
        }
    }

    var stringValue: String? {
        if case .scalar(.string(let string)) = value { return string }
        return nil
    }
}

/// A 1-based line and column (in Unicode scalars); zero when the value came from JSON.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of values that were not read from text.
    public static let unknown = SourcePosition(line: 0, column: 0)

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

extension SourceNode {
    /// Wraps a JSON value (the canonical form) so the same decoder validates it.
    init(json: JSONValue) {
        switch json {
        case .null: self.init(value: .scalar(.null), position: .unknown)
        case .bool(let bool): self.init(value: .scalar(.bool(bool)), position: .unknown)
        case .number(let number): self.init(value: .scalar(.number(number)), position: .unknown)
        case .string(let string): self.init(value: .scalar(.string(string)), position: .unknown)
        case .array(let elements):
            self.init(value: .sequence(elements.map(SourceNode.init(json:))), position: .unknown)
        case .object(let object):
            let entries = object.map {
                Entry(key: $0.key, keyPosition: .unknown, value: SourceNode(json: $0.value))
            }
            self.init(value: .mapping(entries), position: .unknown)
        }
    }

    /// The node as JSON, or nil with the first node that has no JSON equivalent.
    func jsonValue() -> Result<JSONValue, NonJSONNode> {
        switch value {
        case .scalar(.null): return .success(.null)
        case .scalar(.bool(let bool)): return .success(.bool(bool))
        case .scalar(.number(let number)): return .success(.number(number))
        case .scalar(.string(let string)): return .success(.string(string))
        case .scalar(.nonFiniteNumber(let text)):
            return .failure(NonJSONNode(position: position, text: text))
        case .sequence(let elements):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                switch element.jsonValue() {
                case .success(let value): values.append(value)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.array(values))
        case .mapping(let entries):
            var object = JSONObject()
            for entry in entries {
                switch entry.value.jsonValue() {
                case .success(let value): object[entry.key] = value
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.object(object))
        }
    }

    /// Finds the node a JSON Pointer (from a schema error) designates, for its position.
    func node(at pointer: JSONPointer) -> SourceNode? {
        var node = self
        for token in pointer.tokens {
            switch node.value {
            case .mapping(let entries):
                guard let entry = entries.first(where: { $0.key == token }) else { return nil }
                node = entry.value
            case .sequence(let elements):
                guard let index = Int(token), elements.indices.contains(index) else { return nil }
                node = elements[index]
            case .scalar:
                return nil
            }
        }
        return node
    }
}

/// A YAML value that JSON cannot represent (`.inf`, `.nan`).
struct NonJSONNode: Error {
    var position: SourcePosition
    var text: String
}
