/// The state of one validation: walks the node table over an instance, recording errors while
/// `collecting`, and (only for schemas that use `unevaluated*`) which array items and object
/// members each schema evaluated.
struct SchemaEvaluator {
    private let nodes: [SchemaNode]
    private let tracksAnnotations: Bool
    private let limits: JSONSchema.Limits
    /// Whether failures are being recorded; off inside `anyOf`, `oneOf`, `not`, `if` and
    /// `contains`, whose subschema failures are not failures of the instance.
    private var collecting: Bool
    private(set) var errors: [JSONSchemaValidationError] = []
    private var path: [PathToken] = []
    private var depth = 0
    private var steps = 0
    /// Set when a limit stopped the validation; the instance then counts as invalid whatever the
    /// partial result (a stop inside `not` would otherwise read as a pass).
    private(set) var aborted = false

    private enum PathToken {
        case key(String)
        case index(Int)
    }

    /// The result of applying one schema: validity and, when tracked, the evaluated items/members.
    struct Outcome {
        var valid: Bool
        var evaluated = EvaluatedMarks()

        static let valid = Outcome(valid: true)
        static let invalid = Outcome(valid: false)
    }

    init(nodes: [SchemaNode], tracksAnnotations: Bool, limits: JSONSchema.Limits, collecting: Bool) {
        self.nodes = nodes
        self.tracksAnnotations = tracksAnnotations
        self.limits = limits
        self.collecting = collecting
    }

    // MARK: Reporting

    private var instanceLocation: JSONPointer {
        JSONPointer(
            tokens: path.map { token in
                switch token {
                case .key(let key): return key
                case .index(let index): return String(index)
                }
            })
    }

    private mutating func report(
        _ keywordLocation: @autoclosure () -> JSONPointer, _ message: @autoclosure () -> String
    ) {
        guard collecting else { return }
        errors.append(
            JSONSchemaValidationError(
                instanceLocation: instanceLocation, keywordLocation: keywordLocation(), message: message()))
    }

    /// Runs `body` with error collection off, restoring the previous state afterwards.
    private mutating func silently<T>(_ body: (inout SchemaEvaluator) -> T) -> T {
        let saved = collecting
        collecting = false
        defer { collecting = saved }
        return body(&self)
    }

    // MARK: Nodes

    mutating func evaluate(_ index: Int, _ instance: JSONValue) -> Outcome {
        let node = nodes[index]
        switch node.body {
        case .acceptAll:
            return .valid
        case .rejectAll:
            report(node.location, "no value is allowed here (the schema is false)")
            return .invalid
        case .keywords(let keywords):
            steps += 1
            depth += 1
            defer { depth -= 1 }
            guard !aborted else { return .invalid }
            if depth > limits.maximumDepth || steps > limits.maximumSteps {
                aborted = true
                let message =
                    depth > limits.maximumDepth
                    ? "validation stopped: schemas nested deeper than \(limits.maximumDepth) levels"
                    : "validation stopped: more than \(limits.maximumSteps) schema evaluations"
                let saved = collecting
                collecting = true
                report(node.location, message)
                collecting = saved
                return .invalid
            }
            var outcome = Outcome.valid
            for keyword in keywords {
                if !apply(keyword, at: node.location, to: instance, marks: &outcome.evaluated) {
                    outcome.valid = false
                    if !collecting || aborted { return outcome }
                }
            }
            return outcome
        }
    }

    /// Evaluates `node` on the child of the current instance at `token`.
    private mutating func evaluate(_ node: Int, _ instance: JSONValue, at token: PathToken) -> Outcome {
        path.append(token)
        defer { path.removeLast() }
        return evaluate(node, instance)
    }

    private func isRejectAll(_ node: Int) -> Bool {
        if case .rejectAll = nodes[node].body { return true }
        return false
    }

    // MARK: Keywords

    private mutating func apply(
        _ keyword: SchemaKeyword, at location: JSONPointer, to instance: JSONValue,
        marks: inout EvaluatedMarks
    ) -> Bool {
        // A thin dispatcher: each applicator has its own function so that the frames on the
        // recursion path stay small (deep instances recurse through here).
        switch keyword {
        case .prefixItems(let schemas):
            return applyPrefixItems(schemas, instance, &marks)
        case .items(let schema, let start):
            return applyItems(schema, start, location, instance, &marks)
        case .contains(let schema, let minimum, let maximum):
            return applyContains(schema, minimum, maximum, location, instance, &marks)
        case .properties(let table):
            return applyProperties(table, instance, &marks)
        case .patternProperties(let entries):
            return applyPatternProperties(entries, instance, &marks)
        case .additionalProperties(let schema, let known, let patterns):
            return applyAdditionalProperties(schema, known, patterns, instance, &marks)
        case .propertyNames(let schema):
            return applyPropertyNames(schema, instance, &marks)
        case .dependentSchemas(let entries):
            return applyDependentSchemas(entries, instance, &marks)
        case .allOf(let schemas):
            return applyAllOf(schemas, instance, &marks)
        case .anyOf(let schemas):
            return applyAnyOf(schemas, location, instance, &marks)
        case .oneOf(let schemas):
            return applyOneOf(schemas, location, instance, &marks)
        case .not(let schema):
            return applyNot(schema, location, instance, &marks)
        case .conditional(let condition, let then, let otherwise):
            return applyConditional(condition, then, otherwise, instance, &marks)
        case .reference(let target, _):
            return applyReference(target, instance, &marks)
        case .unevaluatedItems(let schema):
            return applyUnevaluatedItems(schema, location, instance, &marks)
        case .unevaluatedProperties(let schema):
            return applyUnevaluatedProperties(schema, location, instance, &marks)
        default:
            return check(keyword, at: location, on: instance)
        }
    }

    /// The assertions: keywords that look at the instance itself and never recurse.
    private mutating func check(_ keyword: SchemaKeyword, at location: JSONPointer, on instance: JSONValue)
        -> Bool
    {
        var keywordLocation: JSONPointer { location.appending(keyword.name) }
        switch keyword {
        case .type(let types):
            guard types.admits(instance) else {
                report(
                    keywordLocation,
                    "expected \(types.nameList.joined(separator: " or ")), got \(instance.typeName)")
                return false
            }
            return true
        case .enumeration(let values):
            guard values.contains(instance) else {
                report(keywordLocation, Self.enumMessage(values))
                return false
            }
            return true
        case .constant(let value):
            guard value == instance else {
                let text = value.jsonString()
                report(
                    keywordLocation,
                    text.count <= 80
                        ? "expected the constant \(text)" : "expected the constant value of the schema")
                return false
            }
            return true
        case .minimum(let limit):
            return checkNumber(instance, keywordLocation) {
                $0 >= limit
            } message: {
                "expected at least \(limit), got \($0)"
            }
        case .exclusiveMinimum(let limit):
            return checkNumber(instance, keywordLocation) {
                $0 > limit
            } message: {
                "expected more than \(limit), got \($0)"
            }
        case .maximum(let limit):
            return checkNumber(instance, keywordLocation) {
                $0 <= limit
            } message: {
                "expected at most \(limit), got \($0)"
            }
        case .exclusiveMaximum(let limit):
            return checkNumber(instance, keywordLocation) {
                $0 < limit
            } message: {
                "expected less than \(limit), got \($0)"
            }
        case .multipleOf(let divisor):
            return checkNumber(instance, keywordLocation) {
                $0.isMultiple(of: divisor)
            } message: {
                "expected a multiple of \(divisor), got \($0)"
            }
        case .minLength(let limit):
            guard case .string(let string) = instance else { return true }
            let length = Self.scalarCount(string)
            guard length >= limit else {
                report(
                    keywordLocation, "expected at least \(Self.counted(limit, "character")), got \(length)")
                return false
            }
            return true
        case .maxLength(let limit):
            guard case .string(let string) = instance else { return true }
            let length = Self.scalarCount(string)
            guard length <= limit else {
                report(keywordLocation, "expected at most \(Self.counted(limit, "character")), got \(length)")
                return false
            }
            return true
        case .pattern(let pattern):
            guard case .string(let string) = instance else { return true }
            switch pattern.matches(string, budget: limits.maximumPatternSteps) {
            case true?:
                return true
            case false?:
                report(keywordLocation, "expected a string matching the pattern \(pattern.source)")
                return false
            case nil:
                let budget = Self.counted(limits.maximumPatternSteps, "matcher step")
                report(
                    keywordLocation,
                    "the pattern \(pattern.source) could not be evaluated within its budget of \(budget)")
                return false
            }
        case .minItems(let limit):
            guard case .array(let elements) = instance else { return true }
            guard elements.count >= limit else {
                report(
                    keywordLocation, "expected at least \(Self.counted(limit, "item")), got \(elements.count)"
                )
                return false
            }
            return true
        case .maxItems(let limit):
            guard case .array(let elements) = instance else { return true }
            guard elements.count <= limit else {
                report(
                    keywordLocation, "expected at most \(Self.counted(limit, "item")), got \(elements.count)")
                return false
            }
            return true
        case .uniqueItems:
            guard case .array(let elements) = instance else { return true }
            guard let (first, second) = Self.firstDuplicate(elements) else { return true }
            report(keywordLocation, "expected unique items, but items \(first) and \(second) are equal")
            return false
        case .minProperties(let limit):
            guard case .object(let object) = instance else { return true }
            guard object.count >= limit else {
                report(
                    keywordLocation,
                    "expected at least \(Self.counted(limit, "property")), got \(object.count)")
                return false
            }
            return true
        case .maxProperties(let limit):
            guard case .object(let object) = instance else { return true }
            guard object.count <= limit else {
                report(
                    keywordLocation,
                    "expected at most \(Self.counted(limit, "property")), got \(object.count)")
                return false
            }
            return true
        case .required(let names):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for name in names where !object.contains(key: name) {
                valid = false
                report(keywordLocation, "missing required property \(Self.quoted(name))")
                if !collecting { return false }
            }
            return valid
        case .dependentRequired(let entries):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for entry in entries where object.contains(key: entry.property) {
                for name in entry.required where !object.contains(key: name) {
                    valid = false
                    report(
                        keywordLocation.appending(entry.property),
                        "property \(Self.quoted(name)) is required when \(Self.quoted(entry.property)) is present"
                    )
                    if !collecting { return false }
                }
            }
            return valid
        default:
            return true
        }
    }

    private mutating func applyPrefixItems(
        _ schemas: [Int], _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var valid = true
        for (offset, element) in zip(schemas.indices, elements) {
            valid = evaluate(schemas[offset], element, at: .index(offset)).valid && valid
            if !valid && !collecting { return false }
        }
        if tracksAnnotations { marks.insert(0..<min(schemas.count, elements.count)) }
        return valid
    }

    private mutating func applyItems(
        _ schema: Int, _ start: Int, _ location: JSONPointer, _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("items") }
        guard case .array(let elements) = instance, elements.count > start else { return true }
        if tracksAnnotations { marks.insert(start..<elements.count) }
        if isRejectAll(schema) {
            report(
                keywordLocation, "expected at most \(Self.counted(start, "item")), got \(elements.count)")
            return false
        }
        var valid = true
        for offset in start..<elements.count {
            valid = evaluate(schema, elements[offset], at: .index(offset)).valid && valid
            if !valid && !collecting { return false }
        }
        return valid
    }

    private mutating func applyContains(
        _ schema: Int, _ minimum: Int, _ maximum: Int?, _ location: JSONPointer, _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("contains") }
        guard case .array(let elements) = instance else { return true }
        var matches = 0
        silently { evaluator in
            for (offset, element) in elements.enumerated()
            where evaluator.evaluate(schema, element, at: .index(offset)).valid {
                matches += 1
                if evaluator.tracksAnnotations { marks.insert(offset) }
            }
        }
        if matches < minimum {
            report(
                keywordLocation,
                "expected at least \(Self.counted(minimum, "item")) matching the contains schema, found \(matches)"
            )
            return false
        }
        if let maximum, matches > maximum {
            report(
                location.appending("maxContains"),
                "expected at most \(Self.counted(maximum, "item")) matching the contains schema, found \(matches)"
            )
            return false
        }
        return true
    }

    private mutating func applyProperties(
        _ table: [ExactString: Int], _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (position, member) in object.enumerated() {
            guard let schema = table[ExactString(member.key)] else { continue }
            if tracksAnnotations { marks.insert(position) }
            valid = evaluateMember(schema, member, falseMessage: "property is not allowed") && valid
            if !valid && !collecting { return false }
        }
        return valid
    }

    private mutating func applyPatternProperties(
        _ entries: [(pattern: SchemaPattern, node: Int)], _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (position, member) in object.enumerated() {
            // A key whose match runs over the budget matches no pattern (additionalProperties applies).
            for entry in entries
            where entry.pattern.matches(member.key, budget: limits.maximumPatternSteps) == true {
                if tracksAnnotations { marks.insert(position) }
                valid =
                    evaluateMember(entry.node, member, falseMessage: "property is not allowed") && valid
                if !valid && !collecting { return false }
            }
        }
        return valid
    }

    private mutating func applyAdditionalProperties(
        _ schema: Int, _ known: Set<ExactString>, _ patterns: [SchemaPattern],
        _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (position, member) in object.enumerated() {
            if known.contains(ExactString(member.key)) { continue }
            if patterns.contains(where: { $0.matches(member.key, budget: limits.maximumPatternSteps) == true }
            ) {
                continue
            }
            if tracksAnnotations { marks.insert(position) }
            valid =
                evaluateMember(
                    schema, member,
                    falseMessage:
                        "property \(Self.quoted(member.key)) is not allowed (additionalProperties is false)"
                )
                && valid
            if !valid && !collecting { return false }
        }
        return valid
    }

    private mutating func applyPropertyNames(
        _ schema: Int, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for key in object.keys {
            let before = errors.count
            let nameValid = evaluate(schema, .string(key), at: .key(key)).valid
            if !nameValid {
                valid = false
                for offset in before..<errors.count {
                    let error = errors[offset]
                    errors[offset] = JSONSchemaValidationError(
                        instanceLocation: error.instanceLocation, keywordLocation: error.keywordLocation,
                        message: "invalid property name: \(error.message)")
                }
                if !collecting { return false }
            }
        }
        return valid
    }

    private mutating func applyDependentSchemas(
        _ entries: [(property: String, node: Int)], _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for entry in entries where object.contains(key: entry.property) {
            let outcome = evaluate(entry.node, instance)
            if outcome.valid {
                marks.formUnion(outcome.evaluated)
            } else {
                valid = false
                if !collecting { return false }
            }
        }
        return valid
    }

    private mutating func applyAllOf(
        _ schemas: [Int], _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var valid = true
        for schema in schemas {
            let outcome = evaluate(schema, instance)
            if outcome.valid {
                marks.formUnion(outcome.evaluated)
            } else {
                valid = false
                if !collecting { return false }
            }
        }
        return valid
    }

    private mutating func applyAnyOf(
        _ schemas: [Int], _ location: JSONPointer, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("anyOf") }
        var matched = false
        silently { evaluator in
            for schema in schemas {
                let outcome = evaluator.evaluate(schema, instance)
                guard outcome.valid else { continue }
                matched = true
                marks.formUnion(outcome.evaluated)
                if !evaluator.tracksAnnotations { break }
            }
        }
        if !matched {
            report(
                keywordLocation,
                "expected a value matching at least one of the \(schemas.count) schemas in anyOf")
        }
        return matched
    }

    private mutating func applyOneOf(
        _ schemas: [Int], _ location: JSONPointer, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("oneOf") }
        var matching: [Int] = []
        var matchedMarks = EvaluatedMarks()
        silently { evaluator in
            for (offset, schema) in schemas.enumerated() {
                let outcome = evaluator.evaluate(schema, instance)
                guard outcome.valid else { continue }
                matching.append(offset)
                matchedMarks = outcome.evaluated
                if matching.count > 1 && !evaluator.tracksAnnotations { break }
            }
        }
        if matching.count == 1 {
            marks.formUnion(matchedMarks)
            return true
        }
        if matching.isEmpty {
            report(
                keywordLocation,
                "expected a value matching exactly one of the \(schemas.count) schemas in oneOf, it matches none"
            )
        } else {
            report(
                keywordLocation,
                "expected a value matching exactly one of the \(schemas.count) schemas in oneOf, "
                    + "it matches \(matching.count > 2 ? "more than one" : "the schemas at \(matching[0]) and \(matching[1])")"
            )
        }
        return false
    }

    private mutating func applyNot(
        _ schema: Int, _ location: JSONPointer, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("not") }
        let matched = silently { $0.evaluate(schema, instance).valid }
        if matched {
            report(keywordLocation, "expected a value not matching the schema in not")
            return false
        }
        return true
    }

    private mutating func applyConditional(
        _ condition: Int, _ then: Int?, _ otherwise: Int?, _ instance: JSONValue,
        _ marks: inout EvaluatedMarks
    ) -> Bool {
        let test = silently { $0.evaluate(condition, instance) }
        if test.valid { marks.formUnion(test.evaluated) }
        guard let branch = test.valid ? then : otherwise else { return true }
        let outcome = evaluate(branch, instance)
        if outcome.valid { marks.formUnion(outcome.evaluated) }
        return outcome.valid
    }

    private mutating func applyReference(
        _ target: Int, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        let outcome = evaluate(target, instance)
        if outcome.valid { marks.formUnion(outcome.evaluated) }
        return outcome.valid
    }

    private mutating func applyUnevaluatedItems(
        _ schema: Int, _ location: JSONPointer, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("unevaluatedItems") }
        guard case .array(let elements) = instance else { return true }
        var valid = true
        for offset in elements.indices where !marks.contains(offset) {
            if isRejectAll(schema) {
                path.append(.index(offset))
                report(keywordLocation, "item is not allowed (unevaluatedItems is false)")
                path.removeLast()
                valid = false
            } else {
                valid = evaluate(schema, elements[offset], at: .index(offset)).valid && valid
            }
            if !valid && !collecting { return false }
        }
        marks.insert(elements.indices)
        return valid
    }

    private mutating func applyUnevaluatedProperties(
        _ schema: Int, _ location: JSONPointer, _ instance: JSONValue, _ marks: inout EvaluatedMarks
    ) -> Bool {
        var keywordLocation: JSONPointer { location.appending("unevaluatedProperties") }
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (position, member) in object.enumerated() where !marks.contains(position) {
            valid =
                evaluateMember(
                    schema, member,
                    falseMessage:
                        "property \(Self.quoted(member.key)) is not allowed (unevaluatedProperties is false)"
                )
                && valid
            if !valid && !collecting { return false }
        }
        marks.insert(object.indices)
        return valid
    }

    /// Applies `schema` to one object member; a `false` schema gets a message naming the member.
    private mutating func evaluateMember(
        _ schema: Int, _ member: JSONObject.Element, falseMessage: @autoclosure () -> String
    ) -> Bool {
        if isRejectAll(schema) {
            let location = nodes[schema].location
            path.append(.key(member.key))
            report(location, falseMessage())
            path.removeLast()
            return false
        }
        return evaluate(schema, member.value, at: .key(member.key)).valid
    }

    private mutating func checkNumber(
        _ instance: JSONValue, _ keywordLocation: JSONPointer, _ test: (JSONNumber) -> Bool,
        message: (JSONNumber) -> String
    ) -> Bool {
        guard case .number(let number) = instance, !test(number) else { return true }
        report(keywordLocation, message(number))
        return false
    }

    /// The length JSON Schema means: Unicode scalars (code points), counted from the UTF-8 bytes
    /// (every byte that does not continue a sequence starts a scalar).
    private static func scalarCount(_ string: String) -> Int {
        var string = string
        return string.withUTF8 { bytes in
            var count = 0
            for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
            return count
        }
    }

    // MARK: Messages

    private static func counted(_ count: Int, _ noun: String) -> String {
        if count == 1 { return "1 \(noun)" }
        return noun == "property" ? "\(count) properties" : "\(count) \(noun)s"
    }

    private static func quoted(_ name: String) -> String {
        let text = JSONValue.string(name).jsonString()
        return text.count <= 80 ? text : String(text.prefix(76)) + "...\""
    }

    private static func enumMessage(_ values: [JSONValue]) -> String {
        let texts = values.map { $0.jsonString() }
        let list = texts.joined(separator: ", ")
        if values.isEmpty { return "no value is allowed (enum is empty)" }
        if list.count <= 200 { return "expected one of \(list)" }
        return "expected one of the \(values.count) values listed in enum"
    }

    /// Indexes of the first pair of equal elements, found in one hashing pass.
    private static func firstDuplicate(_ elements: [JSONValue]) -> (Int, Int)? {
        guard elements.count > 1 else { return nil }
        var seen: [JSONValue: Int] = [:]
        seen.reserveCapacity(elements.count)
        for (offset, element) in elements.enumerated() {
            if let earlier = seen.updateValue(offset, forKey: element) { return (earlier, offset) }
        }
        return nil
    }
}

/// The set of item indexes or member positions a schema evaluated (for `unevaluated*`).
struct EvaluatedMarks {
    private var words: [UInt64] = []

    func contains(_ position: Int) -> Bool {
        let word = position >> 6
        return word < words.count && words[word] & (1 << UInt64(position & 63)) != 0
    }

    mutating func insert(_ position: Int) {
        let word = position >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(position & 63)
    }

    mutating func insert(_ positions: Range<Int>) {
        for position in positions { insert(position) }
    }

    mutating func formUnion(_ other: EvaluatedMarks) {
        if other.words.count > words.count {
            words.append(contentsOf: repeatElement(0, count: other.words.count - words.count))
        }
        for (offset, word) in other.words.enumerated() { words[offset] |= word }
    }
}
