/// Turns a schema document into the node table a `JSONSchema` evaluates.
///
/// One walk compiles every subschema reachable through known keywords and records `$id` resources
/// and `$anchor`s; `$ref`s are collected and resolved afterwards, when every identifier in the
/// document is known. Targets outside the walk (e.g. `#/definitions/x`) are compiled on demand.
struct SchemaCompiler {
    /// Base URI of a document without a root `$id`; only relative references resolve against it.
    static let defaultBaseURI = URIReference("keel-schema:///root.json")

    private let document: JSONValue
    private(set) var nodes: [SchemaNode] = []
    private(set) var usesUnevaluated = false
    private var nodeAtLocation: [JSONPointer: Int] = [:]
    private var resources: [String: JSONPointer] = [:]
    private var anchors: [String: JSONPointer] = [:]
    private var pendingReferences:
        [(node: Int, keywordIndex: Int, reference: String, base: URIReference, location: JSONPointer)] = []

    init(document: JSONValue) {
        self.document = document
    }

    /// Compiles the whole document; the root is node 0.
    mutating func compile() throws(JSONSchemaCompileError) {
        _ = try compileSchema(document, at: .root, base: Self.defaultBaseURI)
        try resolveReferences()
        try rejectInPlaceCycles()
    }

    // MARK: Walking

    private func fail(_ location: JSONPointer, _ message: String) -> JSONSchemaCompileError {
        JSONSchemaCompileError(schemaLocation: location, message: message)
    }

    private mutating func compileSchema(_ value: JSONValue, at location: JSONPointer, base: URIReference)
        throws(JSONSchemaCompileError) -> Int
    {
        if let existing = nodeAtLocation[location] { return existing }
        let index = nodes.count
        nodeAtLocation[location] = index
        switch value {
        case .bool(let flag):
            nodes.append(SchemaNode(location: location, body: flag ? .acceptAll : .rejectAll))
        case .object(let object):
            nodes.append(SchemaNode(location: location, body: .acceptAll))
            let keywords = try compileKeywords(object, at: location, base: base, node: index)
            if !keywords.isEmpty { nodes[index].body = .keywords(keywords) }
        default:
            throw fail(location, "a schema must be an object or a boolean, found \(value.typeName)")
        }
        return index
    }

    private mutating func compileKeywords(
        _ object: JSONObject, at location: JSONPointer, base inherited: URIReference, node: Int
    ) throws(JSONSchemaCompileError) -> [SchemaKeyword] {
        var base = inherited
        if let id = object["$id"] {
            guard case .string(let text) = id else {
                throw fail(location.appending("$id"), "$id must be a string, found \(id.typeName)")
            }
            let resolved = base.resolving(URIReference(text))
            if let fragment = resolved.fragment, !fragment.isEmpty {
                throw fail(location.appending("$id"), "$id must not contain a fragment (use $anchor)")
            }
            base = resolved.withoutFragment
            try register(resource: base.description, at: location)
        } else if location.isRoot {
            try register(resource: base.description, at: location)
        }
        for anchorKeyword in ["$anchor", "$dynamicAnchor"] {
            guard let anchor = object[anchorKeyword] else { continue }
            guard case .string(let name) = anchor, Self.isValidAnchor(name) else {
                throw fail(
                    location.appending(anchorKeyword),
                    "\(anchorKeyword) must be a name like \"node\" (a letter or '_', then letters, digits, '-', '_', '.')"
                )
            }
            let key = base.description + "#" + name
            if let existing = anchors[key], existing != location {
                throw fail(
                    location.appending(anchorKeyword), "anchor \"\(name)\" is defined twice in one resource")
            }
            anchors[key] = location
        }
        if let definitions = object["$defs"] {
            let definitionsLocation = location.appending("$defs")
            guard case .object(let members) = definitions else {
                throw fail(definitionsLocation, "$defs must be an object, found \(definitions.typeName)")
            }
            for (name, schema) in members {
                _ = try compileSchema(schema, at: definitionsLocation.appending(name), base: base)
            }
        }

        var keywords: [SchemaKeyword] = []
        var trailing: [SchemaKeyword] = []
        for (name, value) in object {
            let keywordLocation = location.appending(name)
            switch name {
            case "$ref", "$dynamicRef":
                guard case .string(let reference) = value else {
                    throw fail(keywordLocation, "\(name) must be a string, found \(value.typeName)")
                }
                pendingReferences.append(
                    (node, keywords.count, reference, base, keywordLocation))
                keywords.append(.reference(node, keyword: name))
            case "type":
                keywords.append(.type(try typeSet(value, at: keywordLocation)))
            case "enum":
                guard case .array(let values) = value else {
                    throw fail(keywordLocation, "enum must be an array, found \(value.typeName)")
                }
                keywords.append(.enumeration(values))
            case "const":
                keywords.append(.constant(value))
            case "minimum":
                keywords.append(.minimum(try number(value, at: keywordLocation)))
            case "maximum":
                keywords.append(.maximum(try number(value, at: keywordLocation)))
            case "exclusiveMinimum":
                keywords.append(.exclusiveMinimum(try number(value, at: keywordLocation)))
            case "exclusiveMaximum":
                keywords.append(.exclusiveMaximum(try number(value, at: keywordLocation)))
            case "multipleOf":
                let divisor = try number(value, at: keywordLocation)
                guard divisor > JSONNumber(0) else {
                    throw fail(keywordLocation, "multipleOf must be greater than 0, found \(divisor)")
                }
                keywords.append(.multipleOf(divisor))
            case "minLength":
                keywords.append(.minLength(try count(value, at: keywordLocation)))
            case "maxLength":
                keywords.append(.maxLength(try count(value, at: keywordLocation)))
            case "pattern":
                keywords.append(.pattern(try pattern(value, at: keywordLocation)))
            case "minItems":
                keywords.append(.minItems(try count(value, at: keywordLocation)))
            case "maxItems":
                keywords.append(.maxItems(try count(value, at: keywordLocation)))
            case "uniqueItems":
                guard case .bool(let unique) = value else {
                    throw fail(keywordLocation, "uniqueItems must be a boolean, found \(value.typeName)")
                }
                if unique { keywords.append(.uniqueItems) }
            case "prefixItems":
                keywords.append(.prefixItems(try schemaList(value, at: keywordLocation, base: base)))
            case "items":
                let start = object["prefixItems"]?.arrayValue?.count ?? 0
                let items = try compileSchema(value, at: keywordLocation, base: base)
                keywords.append(.items(items, start: start))
            case "contains":
                let contains = try compileSchema(value, at: keywordLocation, base: base)
                let minimum = try object["minContains"].map { (value) throws(JSONSchemaCompileError) in
                    try count(value, at: location.appending("minContains"))
                }
                let maximum = try object["maxContains"].map { (value) throws(JSONSchemaCompileError) in
                    try count(value, at: location.appending("maxContains"))
                }
                keywords.append(.contains(contains, minimum: minimum ?? 1, maximum: maximum))
            case "minContains", "maxContains":
                _ = try count(value, at: keywordLocation)
            case "minProperties":
                keywords.append(.minProperties(try count(value, at: keywordLocation)))
            case "maxProperties":
                keywords.append(.maxProperties(try count(value, at: keywordLocation)))
            case "required":
                keywords.append(.required(try stringList(value, at: keywordLocation)))
            case "dependentRequired":
                guard case .object(let members) = value else {
                    throw fail(
                        keywordLocation, "dependentRequired must be an object, found \(value.typeName)")
                }
                var entries: [(property: String, required: [String])] = []
                for (property, list) in members {
                    entries.append((property, try stringList(list, at: keywordLocation.appending(property))))
                }
                keywords.append(.dependentRequired(entries))
            case "properties":
                var table: [ExactString: Int] = [:]
                for (property, schema) in try schemaMap(value, at: keywordLocation, base: base) {
                    table[ExactString(property)] = schema
                }
                keywords.append(.properties(table))
            case "patternProperties":
                keywords.append(.patternProperties(try patternMap(value, at: keywordLocation, base: base)))
            case "additionalProperties":
                let additional = try compileSchema(value, at: keywordLocation, base: base)
                let known = Set((object["properties"]?.objectValue?.keys ?? []).map(ExactString.init))
                var patterns: [SchemaPattern] = []
                for source in object["patternProperties"]?.objectValue?.keys ?? [] {
                    patterns.append(try pattern(.string(source), at: location.appending("patternProperties")))
                }
                keywords.append(.additionalProperties(additional, known: known, patterns: patterns))
            case "propertyNames":
                keywords.append(.propertyNames(try compileSchema(value, at: keywordLocation, base: base)))
            case "dependentSchemas":
                let entries = try schemaMap(value, at: keywordLocation, base: base)
                keywords.append(.dependentSchemas(entries.map { (property: $0.0, node: $0.1) }))
            case "allOf":
                keywords.append(.allOf(try schemaList(value, at: keywordLocation, base: base)))
            case "anyOf":
                keywords.append(.anyOf(try schemaList(value, at: keywordLocation, base: base)))
            case "oneOf":
                keywords.append(.oneOf(try schemaList(value, at: keywordLocation, base: base)))
            case "not":
                keywords.append(.not(try compileSchema(value, at: keywordLocation, base: base)))
            case "if":
                let condition = try compileSchema(value, at: keywordLocation, base: base)
                let then = try object["then"].map { (value) throws(JSONSchemaCompileError) in
                    try compileSchema(value, at: location.appending("then"), base: base)
                }
                let otherwise = try object["else"].map { (value) throws(JSONSchemaCompileError) in
                    try compileSchema(value, at: location.appending("else"), base: base)
                }
                keywords.append(.conditional(if: condition, then: then, else: otherwise))
            case "then", "else":
                // Applied through "if"; compiled anyway so `$id`s and `$ref`s inside are known.
                _ = try compileSchema(value, at: keywordLocation, base: base)
            case "unevaluatedItems":
                usesUnevaluated = true
                trailing.append(.unevaluatedItems(try compileSchema(value, at: keywordLocation, base: base)))
            case "unevaluatedProperties":
                usesUnevaluated = true
                trailing.append(
                    .unevaluatedProperties(try compileSchema(value, at: keywordLocation, base: base)))
            case "format":
                guard case .string = value else {
                    throw fail(keywordLocation, "format must be a string, found \(value.typeName)")
                }
            default:
                // Annotations ($comment, title, default, examples...) and unknown keywords.
                continue
            }
        }
        return keywords + trailing
    }

    private static func isValidAnchor(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII,
            first.properties.isAlphabetic || first == "_"
        else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "-_.".unicodeScalars.contains(scalar))
        }
    }

    private mutating func register(resource uri: String, at location: JSONPointer)
        throws(JSONSchemaCompileError)
    {
        if let existing = resources[uri], existing != location {
            throw fail(location.appending("$id"), "$id \"\(uri)\" is already used at \"\(existing)\"")
        }
        resources[uri] = location
    }

    // MARK: Keyword values

    private func typeSet(_ value: JSONValue, at location: JSONPointer) throws(JSONSchemaCompileError)
        -> JSONTypeSet
    {
        func single(_ name: String) throws(JSONSchemaCompileError) -> JSONTypeSet {
            guard let entry = JSONTypeSet.names.first(where: { $0.0 == name }) else {
                throw fail(
                    location,
                    "unknown type \"\(name)\"; expected one of \(JSONTypeSet.names.map(\.0).joined(separator: ", "))"
                )
            }
            return entry.1
        }
        switch value {
        case .string(let name):
            return try single(name)
        case .array(let names):
            var set: JSONTypeSet = []
            for name in names {
                guard case .string(let text) = name else {
                    throw fail(location, "type entries must be strings, found \(name.typeName)")
                }
                let type = try single(text)
                if set.contains(type) { throw fail(location, "type \"\(text)\" is listed twice") }
                set.insert(type)
            }
            return set
        default:
            throw fail(location, "type must be a string or an array of strings, found \(value.typeName)")
        }
    }

    private func number(_ value: JSONValue, at location: JSONPointer) throws(JSONSchemaCompileError)
        -> JSONNumber
    {
        guard case .number(let number) = value else {
            throw fail(location, "\(location.tokens.last ?? "") must be a number, found \(value.typeName)")
        }
        return number
    }

    /// A non-negative integer keyword (`2.0` allowed); values beyond Int are clamped, as no string,
    /// array or object can be that large.
    private func count(_ value: JSONValue, at location: JSONPointer) throws(JSONSchemaCompileError) -> Int {
        guard case .number(let number) = value, number.isInteger, !number.isNegative else {
            let found = value.numberValue.map { "\($0)" } ?? value.typeName
            throw fail(
                location, "\(location.tokens.last ?? "") must be a non-negative integer, found \(found)")
        }
        return number.int64Value.map { Int(clamping: $0) } ?? Int.max
    }

    private func pattern(_ value: JSONValue, at location: JSONPointer) throws(JSONSchemaCompileError)
        -> SchemaPattern
    {
        guard case .string(let source) = value else {
            throw fail(location, "pattern must be a string, found \(value.typeName)")
        }
        do {
            return try SchemaPattern(source)
        } catch {
            throw fail(location, "invalid regular expression \"\(source)\": \(error.message)")
        }
    }

    private func stringList(_ value: JSONValue, at location: JSONPointer) throws(JSONSchemaCompileError)
        -> [String]
    {
        guard case .array(let elements) = value else {
            throw fail(location, "expected an array of strings, found \(value.typeName)")
        }
        var seen = Set<ExactString>()
        var strings: [String] = []
        for element in elements {
            guard case .string(let string) = element else {
                throw fail(
                    location, "expected an array of strings, found an element of type \(element.typeName)")
            }
            guard seen.insert(ExactString(string)).inserted else {
                throw fail(location, "\"\(string)\" is listed twice")
            }
            strings.append(string)
        }
        return strings
    }

    private mutating func schemaList(_ value: JSONValue, at location: JSONPointer, base: URIReference)
        throws(JSONSchemaCompileError) -> [Int]
    {
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw fail(location, "\(location.tokens.last ?? "") must be a non-empty array of schemas")
        }
        var indexes: [Int] = []
        for (offset, element) in elements.enumerated() {
            indexes.append(try compileSchema(element, at: location.appending(index: offset), base: base))
        }
        return indexes
    }

    private mutating func schemaMap(_ value: JSONValue, at location: JSONPointer, base: URIReference)
        throws(JSONSchemaCompileError) -> [(String, Int)]
    {
        guard case .object(let members) = value else {
            throw fail(
                location,
                "\(location.tokens.last ?? "") must be an object of schemas, found \(value.typeName)")
        }
        var entries: [(String, Int)] = []
        for (name, schema) in members {
            entries.append((name, try compileSchema(schema, at: location.appending(name), base: base)))
        }
        return entries
    }

    private mutating func patternMap(_ value: JSONValue, at location: JSONPointer, base: URIReference)
        throws(JSONSchemaCompileError) -> [(pattern: SchemaPattern, node: Int)]
    {
        var entries: [(pattern: SchemaPattern, node: Int)] = []
        for (source, node) in try schemaMap(value, at: location, base: base) {
            entries.append((try pattern(.string(source), at: location.appending(source)), node))
        }
        return entries
    }

    // MARK: References

    private mutating func resolveReferences() throws(JSONSchemaCompileError) {
        while let pending = pendingReferences.popLast() {
            let target = try resolve(pending.reference, base: pending.base, at: pending.location)
            guard case .keywords(var keywords) = nodes[pending.node].body else { continue }
            keywords[pending.keywordIndex] = .reference(
                target, keyword: pending.location.tokens.last ?? "$ref")
            nodes[pending.node].body = .keywords(keywords)
        }
    }

    private mutating func resolve(_ reference: String, base: URIReference, at location: JSONPointer)
        throws(JSONSchemaCompileError) -> Int
    {
        let uri = base.resolving(URIReference(reference))
        let resourceURI = uri.withoutFragment.description
        guard let resourceLocation = resources[resourceURI] else {
            throw fail(
                location,
                "cannot resolve \"\(reference)\": no schema in this document has $id \"\(resourceURI)\" "
                    + "(remote references are not supported)")
        }
        let fragment = uri.fragment ?? ""
        let targetLocation: JSONPointer
        if fragment.isEmpty {
            targetLocation = resourceLocation
        } else if fragment.hasPrefix("/") {
            guard let decoded = fragment.percentDecoded, let pointer = try? JSONPointer(parsing: decoded)
            else {
                throw fail(location, "\"\(reference)\" has a malformed JSON Pointer fragment")
            }
            targetLocation = JSONPointer(tokens: resourceLocation.tokens + pointer.tokens)
        } else if let anchored = anchors[resourceURI + "#" + fragment] {
            targetLocation = anchored
        } else {
            throw fail(
                location, "cannot resolve \"\(reference)\": no $anchor \"\(fragment)\" in \"\(resourceURI)\"")
        }
        if let compiled = nodeAtLocation[targetLocation] { return compiled }
        guard let target = document[pointer: targetLocation] else {
            throw fail(location, "cannot resolve \"\(reference)\": nothing at \"\(targetLocation)\"")
        }
        return try compileSchema(target, at: targetLocation, base: baseURI(at: targetLocation))
    }

    /// The base URI in effect for the schema at `location`: the `$id`s of its ancestors resolved
    /// from the root down (its own `$id` is applied when it is compiled).
    private func baseURI(at location: JSONPointer) -> URIReference {
        var base = Self.defaultBaseURI
        var current = document
        for token in location.tokens {
            if case .string(let id)? = current["$id"] {
                base = base.resolving(URIReference(id)).withoutFragment
            }
            guard let next = current[pointer: JSONPointer(tokens: [token])] else { break }
            current = next
        }
        return base
    }

    /// Rejects `$ref`/`allOf`/... loops that revisit a schema without descending into the instance:
    /// they could only recurse forever.
    private func rejectInPlaceCycles() throws(JSONSchemaCompileError) {
        enum Mark { case visiting, done }
        var marks = [Mark?](repeating: nil, count: nodes.count)
        for start in nodes.indices where marks[start] == nil {
            var stack: [(node: Int, next: Int, children: [Int])] = [(start, 0, children(of: start))]
            marks[start] = .visiting
            while !stack.isEmpty {
                let top = stack.count - 1
                if stack[top].next == stack[top].children.count {
                    marks[stack[top].node] = .done
                    stack.removeLast()
                    continue
                }
                let child = stack[top].children[stack[top].next]
                stack[top].next += 1
                switch marks[child] {
                case .visiting:
                    throw fail(
                        nodes[child].location,
                        "this schema refers back to itself (through $ref, allOf, anyOf, oneOf, not, if/then/else "
                            + "or dependentSchemas) without descending into the instance; validation would never end"
                    )
                case .done:
                    continue
                case nil:
                    marks[child] = .visiting
                    stack.append((child, 0, children(of: child)))
                }
            }
        }
    }

    private func children(of node: Int) -> [Int] {
        guard case .keywords(let keywords) = nodes[node].body else { return [] }
        return keywords.flatMap(\.inPlaceSubschemas)
    }
}
