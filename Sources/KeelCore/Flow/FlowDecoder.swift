/// Turns `SourceNode`s into the flow model, collecting every error instead of stopping at the
/// first, each with its position and field path.
///
/// The typed readers below return nil after recording an error, so callers simply skip what
/// could not be read and go on checking the rest.
struct FlowDecoder {
    let file: String
    let limits: FlowLimits
    var errors: [FlowError] = []
    /// Every template string read, checked once all step ids are known.
    var templates: [TemplateSite] = []
    /// Each step's id and edges, kept even when other fields failed, for the graph checks.
    var skeletons: [StepSkeleton] = []
    /// The YAML text, to place expression errors precisely; nil for JSON.
    var source: String?
    /// The flow's input schema once read, to check `input.NAME` references against it.
    var inputSchema: JSONValue?

    init(file: String, limits: FlowLimits) {
        self.file = file
        self.limits = limits
    }

    /// A template string and where it was written.
    struct TemplateSite {
        var text: String
        var path: String
        var position: SourcePosition
        /// The step it belongs to (nil for flow-level fields).
        var stepIndex: Int?
    }

    /// What the graph checks need of a step, with positions.
    struct StepSkeleton {
        var index: Int
        var path: String
        var position: SourcePosition
        var id: String?
        var idPosition: SourcePosition
        var needs: [(id: String, position: SourcePosition, path: String)] = []
        var requestChanges: (id: String, position: SourcePosition, path: String)?
        /// The step's first kind key (its action when a `wait` or `approval` joins it).
        var kind: String?
        /// Whether the step has an `approval` (alone or beside a `wait`): its `decision` may be read.
        var hasApproval = false
        /// Declared output names, nil when the step declares none.
        var outputNames: Set<String>?
        /// Whether the step has `map`: its own outputs are `results` and `count`, and its templates
        /// (but `if` and `map.over`) may read `map`.
        var isMapped = false
    }

    /// A mapping's known fields; unknown ones were reported when it was opened.
    struct Fields {
        var node: SourceNode
        var path: String
        var entries: [String: SourceNode.Entry]

        subscript(key: String) -> SourceNode? { entries[key]?.value }
        func has(_ key: String) -> Bool { entries[key] != nil }
        func path(_ key: String) -> String { FlowPath.child(path, key) }
    }

    mutating func fail(_ code: FlowError.Code, at position: SourcePosition, _ path: String, _ message: String)
    {
        errors.append(FlowError(code: code, file: file, position: position, path: path, message: message))
    }

    mutating func wrongType(_ node: SourceNode, _ path: String, expected: String) {
        var found = node.typeName
        if case .scalar(let scalar) = node.value, scalar != .null {
            // A quoted scalar's text is the string itself ("3" reads: got string '3').
            let text: String
            if case .string(let string) = scalar {
                text = string
            } else {
                text = node.plainText ?? "\(scalar)"
            }
            found += " '\(FlowError.quoted(text))'"
        }
        fail(.wrongType, at: node.position, path, "expected \(expected); got \(found)")
    }

    /// Opens a mapping, reporting unknown fields (with a suggestion when one is close).
    mutating func fields(_ node: SourceNode, _ path: String, allowed: [String]) -> Fields? {
        guard case .mapping(let entries) = node.value else {
            wrongType(node, path, expected: "a mapping")
            return nil
        }
        var known: [String: SourceNode.Entry] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                known[entry.key] = entry
                continue
            }
            // Top-level `x-` fields hold YAML anchors for reuse; they are not part of the flow.
            if path.isEmpty && entry.key.hasPrefix("x-") { continue }
            var message = "unknown field '\(FlowError.quoted(entry.key))'"
            if let suggestion = Suggestion.closest(to: entry.key, among: allowed) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; expected one of \(allowed.joined(separator: ", "))"
            }
            fail(.unknownField, at: entry.keyPosition, FlowPath.child(path, entry.key), message)
        }
        return Fields(node: node, path: path, entries: known)
    }

    /// A required field, or nil after reporting it missing at its mapping.
    mutating func required(_ fields: Fields, _ key: String) -> SourceNode? {
        if let node = fields[key] { return node }
        fail(.missingField, at: fields.node.position, fields.path, "missing required field '\(key)'")
        return nil
    }

    mutating func string(_ node: SourceNode, _ path: String, nonEmpty: Bool = true) -> String? {
        guard let string = node.stringValue else {
            wrongType(node, path, expected: "a string")
            return nil
        }
        if nonEmpty && string.isEmpty {
            fail(.invalidValue, at: node.position, path, "expected a non-empty string")
            return nil
        }
        return string
    }

    /// A string field that also accepts a plain number or boolean as written (`PORT: 8080`).
    mutating func text(_ node: SourceNode, _ path: String) -> String? {
        switch node.value {
        case .scalar(.string(let string)): return string
        case .scalar(.number(let number)): return node.plainText ?? number.description
        case .scalar(.bool(let bool)): return node.plainText ?? (bool ? "true" : "false")
        default:
            wrongType(node, path, expected: "a string")
            return nil
        }
    }

    /// A string that may hold `${{ }}` templates, recorded for checking.
    mutating func template(_ node: SourceNode, _ path: String, step: Int?, acceptScalars: Bool = false)
        -> String?
    {
        guard let text = acceptScalars ? text(node, path) : string(node, path) else { return nil }
        templates.append(TemplateSite(text: text, path: path, position: node.position, stepIndex: step))
        return text
    }

    mutating func integer(_ node: SourceNode, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(.number(let number)) = node.value, number.isInteger else {
            wrongType(node, path, expected: "an integer")
            return nil
        }
        guard let value = number.int64Value.map(Int.init), range.contains(value) else {
            let bound =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            fail(.invalidValue, at: node.position, path, "expected an integer \(bound); got \(number)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: SourceNode, _ path: String) -> Bool? {
        guard case .scalar(.bool(let value)) = node.value else {
            wrongType(node, path, expected: "true or false")
            return nil
        }
        return value
    }

    mutating func duration(_ node: SourceNode, _ path: String, allowZero: Bool = false) -> FlowDuration? {
        guard let text = node.stringValue else {
            wrongType(node, path, expected: "a duration like 500ms, 5s, 15m, 2h, 1d or 1h30m")
            return nil
        }
        guard let duration = FlowDuration(parsing: text) else {
            fail(
                .invalidDuration, at: node.position, path,
                "expected a duration like 500ms, 5s, 15m, 2h, 1d or 1h30m (at most 366d); got '\(FlowError.quoted(text))'"
            )
            return nil
        }
        if !allowZero && duration.milliseconds == 0 {
            fail(
                .invalidDuration, at: node.position, path,
                "expected a duration greater than zero; got '\(text)'")
            return nil
        }
        return duration
    }

    mutating func oneOf(_ node: SourceNode, _ path: String, _ options: [String]) -> String? {
        let expected = "one of \(options.joined(separator: ", "))"
        guard let text = node.stringValue else {
            wrongType(node, path, expected: expected)
            return nil
        }
        guard options.contains(text) else {
            fail(
                .invalidValue, at: node.position, path,
                "expected \(expected); got '\(FlowError.quoted(text))'")
            return nil
        }
        return text
    }

    mutating func list(_ node: SourceNode, _ path: String, nonEmpty: Bool = false) -> [SourceNode]? {
        guard case .sequence(let elements) = node.value else {
            wrongType(node, path, expected: "a list")
            return nil
        }
        if nonEmpty && elements.isEmpty {
            fail(.invalidValue, at: node.position, path, "expected at least one element")
            return nil
        }
        return elements
    }

    /// A mapping of names to strings (environment, headers); values may be templates.
    mutating func stringMap(
        _ node: SourceNode, _ path: String, step: Int?, keyPattern: NamePattern, keyDescription: String
    ) -> [String: String]? {
        guard case .mapping(let entries) = node.value else {
            wrongType(node, path, expected: "a mapping")
            return nil
        }
        var result: [String: String] = [:]
        for entry in entries {
            let entryPath = FlowPath.child(path, entry.key)
            if !keyPattern.matches(entry.key) {
                fail(
                    .invalidName, at: entry.keyPosition, entryPath,
                    "expected \(keyDescription); got '\(FlowError.quoted(entry.key))'")
                continue
            }
            if let value = template(entry.value, entryPath, step: step, acceptScalars: true) {
                result[entry.key] = value
            }
        }
        return result
    }

    /// An argv list: at least one element, each a template.
    mutating func command(_ node: SourceNode, _ path: String, step: Int) -> [String]? {
        guard let elements = list(node, path, nonEmpty: true) else { return nil }
        var argv: [String] = []
        for (index, element) in elements.enumerated() {
            if let argument = template(element, FlowPath.index(path, index), step: step, acceptScalars: true)
            {
                argv.append(argument)
            }
        }
        if let first = argv.first, first.isEmpty {
            fail(
                .invalidValue, at: elements[0].position, FlowPath.index(path, 0),
                "expected a program name; got an empty string")
        }
        return argv.count == elements.count ? argv : nil
    }

    /// Any JSON value (`.inf` and `.nan` have no JSON form).
    mutating func json(_ node: SourceNode, _ path: String) -> JSONValue? {
        switch node.jsonValue() {
        case .success(let value):
            return value
        case .failure(let error):
            fail(
                .invalidValue, at: error.position, path,
                "expected a JSON value; got '\(error.text)', which JSON cannot represent")
            return nil
        }
    }

    /// A JSON Schema, compiled now so its errors point into the YAML.
    mutating func schema(_ node: SourceNode, _ path: String) -> JSONValue? {
        guard let document = json(node, path) else { return nil }
        guard document.objectValue != nil || document.boolValue != nil else {
            wrongType(node, path, expected: "a JSON Schema (a mapping or a boolean)")
            return nil
        }
        do {
            _ = try JSONSchema(document)
        } catch {
            let located = node.node(at: error.schemaLocation) ?? node
            let errorPath = error.schemaLocation.tokens.reduce(path) { FlowPath.child($0, $1) }
            fail(.invalidSchema, at: located.position, errorPath, "invalid JSON Schema: \(error.message)")
            return nil
        }
        return document
    }

    mutating func name(_ node: SourceNode, _ path: String, pattern: NamePattern, description: String)
        -> String?
    {
        guard let text = string(node, path, nonEmpty: false) else { return nil }
        guard pattern.matches(text) else {
            fail(
                .invalidName, at: node.position, path,
                "expected \(description); got '\(FlowError.quoted(text))'")
            return nil
        }
        return text
    }
}
