/// One compiled (sub)schema. Subschemas refer to each other by index into the validator's node
/// table, which lets `$ref` cycles exist without reference cycles in memory.
struct SchemaNode: Sendable {
    enum Body: Sendable {
        /// `true` or `{}`: everything is valid.
        case acceptAll
        /// `false`: nothing is valid.
        case rejectAll
        /// The assertions and applicators of an object schema, `unevaluated*` last.
        case keywords([SchemaKeyword])
    }

    /// Where the schema is in the schema document.
    let location: JSONPointer
    var body: Body
}

/// The JSON Schema types a `type` keyword can name.
struct JSONTypeSet: OptionSet, Sendable {
    let rawValue: UInt8

    static let null = JSONTypeSet(rawValue: 1 << 0)
    static let boolean = JSONTypeSet(rawValue: 1 << 1)
    static let integer = JSONTypeSet(rawValue: 1 << 2)
    static let number = JSONTypeSet(rawValue: 1 << 3)
    static let string = JSONTypeSet(rawValue: 1 << 4)
    static let array = JSONTypeSet(rawValue: 1 << 5)
    static let object = JSONTypeSet(rawValue: 1 << 6)

    static let names: [(String, JSONTypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number),
        ("string", .string), ("array", .array), ("object", .object),
    ]

    /// Whether `value` has one of the types (`number` includes integers).
    func admits(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .number(let number):
            return contains(.number) || (contains(.integer) && number.isInteger)
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }

    /// The type names in the set, in the order JSON Schema lists them.
    var nameList: [String] {
        Self.names.filter { contains($0.1) }.map(\.0)
    }
}

/// A compiled keyword. Subschemas are node indexes; `$ref` targets are patched in once the whole
/// document has been walked. Indirect, so passing a keyword around is one reference count.
indirect enum SchemaKeyword: Sendable {
    case type(JSONTypeSet)
    case enumeration([JSONValue])
    case constant(JSONValue)
    case minimum(JSONNumber)
    case exclusiveMinimum(JSONNumber)
    case maximum(JSONNumber)
    case exclusiveMaximum(JSONNumber)
    case multipleOf(JSONNumber)
    case minLength(Int)
    case maxLength(Int)
    case pattern(SchemaPattern)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems
    case prefixItems([Int])
    /// `items`, applying from index `start` (the length of `prefixItems`).
    case items(Int, start: Int)
    case contains(Int, minimum: Int, maximum: Int?)
    case minProperties(Int)
    case maxProperties(Int)
    case required([String])
    case dependentRequired([(property: String, required: [String])])
    case properties([ExactString: Int])
    case patternProperties([(pattern: SchemaPattern, node: Int)])
    /// `additionalProperties`, with the sibling `properties` names and patterns it must skip.
    case additionalProperties(Int, known: Set<ExactString>, patterns: [SchemaPattern])
    case propertyNames(Int)
    case dependentSchemas([(property: String, node: Int)])
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case reference(Int, keyword: String)
    case unevaluatedItems(Int)
    case unevaluatedProperties(Int)

    /// The keyword as spelled in the schema, for keyword locations.
    var name: String {
        switch self {
        case .type: return "type"
        case .enumeration: return "enum"
        case .constant: return "const"
        case .minimum: return "minimum"
        case .exclusiveMinimum: return "exclusiveMinimum"
        case .maximum: return "maximum"
        case .exclusiveMaximum: return "exclusiveMaximum"
        case .multipleOf: return "multipleOf"
        case .minLength: return "minLength"
        case .maxLength: return "maxLength"
        case .pattern: return "pattern"
        case .minItems: return "minItems"
        case .maxItems: return "maxItems"
        case .uniqueItems: return "uniqueItems"
        case .prefixItems: return "prefixItems"
        case .items: return "items"
        case .contains: return "contains"
        case .minProperties: return "minProperties"
        case .maxProperties: return "maxProperties"
        case .required: return "required"
        case .dependentRequired: return "dependentRequired"
        case .properties: return "properties"
        case .patternProperties: return "patternProperties"
        case .additionalProperties: return "additionalProperties"
        case .propertyNames: return "propertyNames"
        case .dependentSchemas: return "dependentSchemas"
        case .allOf: return "allOf"
        case .anyOf: return "anyOf"
        case .oneOf: return "oneOf"
        case .not: return "not"
        case .conditional: return "if"
        case .reference(_, let keyword): return keyword
        case .unevaluatedItems: return "unevaluatedItems"
        case .unevaluatedProperties: return "unevaluatedProperties"
        }
    }

    /// Subschemas applied to the same instance location (the edges a `$ref` cycle could loop on
    /// without ever descending into the instance).
    var inPlaceSubschemas: [Int] {
        switch self {
        case .allOf(let nodes), .anyOf(let nodes), .oneOf(let nodes): return nodes
        case .not(let node), .reference(let node, _): return [node]
        case .conditional(let ifNode, let thenNode, let elseNode):
            return [ifNode] + [thenNode, elseNode].compactMap { $0 }
        case .dependentSchemas(let entries): return entries.map(\.node)
        default: return []
        }
    }
}
