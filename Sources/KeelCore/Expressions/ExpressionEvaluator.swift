/// Evaluates compiled expressions against a context, within the context's limits.
///
/// One evaluator serves one `evaluate` call (all the expressions of a template share it), so the
/// step budget and the secrets fetched are per call. Recursion follows the syntax tree, whose height
/// the parser bounded; work proportional to values is charged to the step budget.
struct ExpressionEvaluator {
    private let context: ExpressionContext
    private var stepsLeft: Int
    private var resolvedSecrets: [String: String] = [:]
    /// Values of the secrets read, in first-use order, without duplicates or empty strings.
    private(set) var usedSecretValues: [String] = []
    /// The expression being evaluated, for error positions.
    private var source = ""
    private var columnOffset = 0

    init(context: ExpressionContext) {
        self.context = context
        self.stepsLeft = context.limits.maximumSteps
    }

    /// Evaluates one compiled expression.
    mutating func evaluate(_ expression: Expression) throws(ExpressionError) -> JSONValue {
        source = expression.source
        columnOffset = expression.columnOffset
        return try evaluate(expression.root)
    }

    // MARK: Errors and budget

    private func failure(
        _ kind: ExpressionError.Kind, _ message: String, at node: ExpressionNode
    ) -> ExpressionError {
        var view = String.UnicodeScalarView()
        view.append(
            contentsOf: source.unicodeScalars.dropFirst(node.start).prefix(node.end - node.start))
        return ExpressionError(
            kind: kind, message: message, column: columnOffset + node.start + 1,
            text: ExpressionError.excerpt(String(view)))
    }

    private func quoted(_ node: ExpressionNode) -> String {
        var view = String.UnicodeScalarView()
        view.append(
            contentsOf: source.unicodeScalars.dropFirst(node.start).prefix(node.end - node.start))
        return "'\(ExpressionError.excerpt(String(view)))'"
    }

    private mutating func charge(_ steps: Int, at node: ExpressionNode) throws(ExpressionError) {
        guard steps <= stepsLeft else {
            stepsLeft = 0
            throw failure(
                .limitExceeded,
                "evaluation exceeded \(context.limits.maximumSteps) steps in \(quoted(node))", at: node)
        }
        stepsLeft -= steps
    }

    /// Charges the size of a value about to be walked (compared, serialized, rendered) and checks
    /// its depth, so the walk can neither take too long nor overflow the stack.
    @discardableResult
    private mutating func chargeWalk(of value: JSONValue, at node: ExpressionNode)
        throws(ExpressionError) -> Int
    {
        switch value.boundedSize(
            maximumDepth: context.limits.maximumValueDepth, maximumNodes: stepsLeft)
        {
        case .nodes(let count):
            stepsLeft -= count
            return count
        case .tooLarge:
            try charge(stepsLeft + 1, at: node)
            return 0
        case .tooDeep:
            throw failure(
                .limitExceeded,
                "a value in \(quoted(node)) nests deeper than \(context.limits.maximumValueDepth) levels",
                at: node)
        }
    }

    /// Charges work linear in a string's length (searching, parsing).
    private mutating func chargeScan(of string: String, at node: ExpressionNode)
        throws(ExpressionError)
    {
        try charge(1 + string.utf8.count / 64, at: node)
    }

    private func checkLength(_ length: Int, at node: ExpressionNode) throws(ExpressionError) {
        guard length <= context.limits.maximumStringLength else {
            throw failure(
                .limitExceeded,
                "\(quoted(node)) builds a string longer than \(context.limits.maximumStringLength) bytes",
                at: node)
        }
    }

    private func typeMismatch(_ message: String, at node: ExpressionNode) -> ExpressionError {
        failure(.typeMismatch, "\(message) in \(quoted(node))", at: node)
    }

    // MARK: Nodes

    private mutating func evaluate(_ node: ExpressionNode) throws(ExpressionError) -> JSONValue {
        try charge(1, at: node)
        switch node.kind {
        case .literal(let value):
            return value
        case .input:
            return context.input
        case .stepOutputs(let id):
            return context.steps[id].map { .object($0.outputs) } ?? .null
        case .stepStatus(let id):
            return context.steps[id].map { .string($0.status.rawValue) } ?? .null
        case .stepDecision(let id):
            return context.steps[id]?.decision.map { .string($0.rawValue) } ?? .null
        case .run(let field):
            return context.run.value(of: field)
        case .map(let field):
            guard let map = context.map else {
                throw failure(
                    .unknownName, "map.\(field.rawValue) is defined only in a step with map", at: node)
            }
            return map.value(of: field)
        case .response:
            guard let response = context.response else {
                throw failure(.unknownName, "response is defined only in an http step's usage", at: node)
            }
            return response
        case .secret(let name):
            return .string(try secret(name, at: node))
        case .member(let base, let name):
            return try evaluate(base)[name] ?? .null
        case .index(let base, let index):
            let container = try evaluate(base)
            switch try evaluate(index) {
            case .string(let key):
                return container[key] ?? .null
            case .number(let number):
                guard let position = number.int64Value, let offset = Int(exactly: position) else {
                    return .null
                }
                return container[offset] ?? .null
            case .null, .bool, .array, .object:
                return .null
            }
        case .not(let operand):
            return .bool(!(try evaluate(operand).isTruthy))
        case .logical(let op, let operands):
            // Short-circuit: stop at the first operand that decides the result.
            let decisive = op == .or
            for operand in operands {
                if try evaluate(operand).isTruthy == decisive { return .bool(decisive) }
            }
            return .bool(!decisive)
        case .comparison(let op, let left, let right):
            return .bool(try compare(op, try evaluate(left), try evaluate(right), at: node))
        case .call(let function, let arguments):
            var values: [JSONValue] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try evaluate(argument)) }
            return try call(function, values, at: node)
        }
    }

    private mutating func secret(_ name: String, at node: ExpressionNode) throws(ExpressionError)
        -> String
    {
        if let value = resolvedSecrets[name] { return value }
        guard let value = context.secretResolver(name) else {
            throw failure(
                .missingSecret, "secret '\(ExpressionError.excerpt(name))' is not available", at: node)
        }
        resolvedSecrets[name] = value
        if !value.isEmpty && !usedSecretValues.contains(value) { usedSecretValues.append(value) }
        return value
    }

    private mutating func compare(
        _ op: ExpressionNode.ComparisonOperator, _ left: JSONValue, _ right: JSONValue,
        at node: ExpressionNode
    ) throws(ExpressionError) -> Bool {
        switch op {
        case .equal, .notEqual:
            try chargeWalk(of: left, at: node)
            try chargeWalk(of: right, at: node)
            return (left == right) == (op == .equal)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            switch (left, right) {
            case (.number(let l), .number(let r)):
                order = l < r ? -1 : (l == r ? 0 : 1)
            case (.string(let l), .string(let r)):
                try chargeScan(of: l, at: node)
                order =
                    l.utf8.elementsEqual(r.utf8) ? 0 : (l.utf8.lexicographicallyPrecedes(r.utf8) ? -1 : 1)
            default:
                throw typeMismatch(
                    "'\(op.rawValue)' compares two numbers or two strings, not "
                        + "\(left.expressionTypeName) and \(right.expressionTypeName)",
                    at: node)
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// The text of a value inside a larger string, charged and depth-checked.
    private mutating func render(_ value: JSONValue, at node: ExpressionNode) throws(ExpressionError)
        -> String
    {
        switch value {
        case .array, .object: try chargeWalk(of: value, at: node)
        case .null, .bool, .number, .string: break
        }
        return value.interpolationText
    }

    /// Appends the text of the value of the expression just evaluated to an interpolated string,
    /// failing as soon as the string grows too long.
    mutating func append(_ value: JSONValue, of expression: Expression, to result: inout String)
        throws(ExpressionError)
    {
        result += try render(value, at: expression.root)
        try checkLength(result.utf8.count, at: expression.root)
    }

    // MARK: Functions

    private mutating func call(
        _ function: ExpressionFunction, _ arguments: [JSONValue], at node: ExpressionNode
    ) throws(ExpressionError) -> JSONValue {
        let name = function.rawValue
        switch function {
        case .contains:
            switch (arguments[0], arguments[1]) {
            case (.string(let haystack), .string(let needle)):
                try chargeScan(of: haystack, at: node)
                try chargeScan(of: needle, at: node)
                return .bool(haystack.utf8.containsBytes(needle.utf8))
            case (.string, let needle):
                throw typeMismatch(
                    "contains on a string needs a string to look for, not \(needle.expressionTypeName)",
                    at: node)
            case (.array(let elements), let needle):
                // Comparing with an element walks at most the needle's size.
                let needleSize = try chargeWalk(of: needle, at: node)
                for element in elements {
                    try charge(needleSize, at: node)
                    if element == needle { return true }
                }
                return false
            case (let haystack, _):
                throw typeMismatch(
                    "contains needs a string or an array to search, not \(haystack.expressionTypeName)",
                    at: node)
            }
        case .startsWith, .endsWith:
            guard case .string(let string) = arguments[0], case .string(let affix) = arguments[1] else {
                throw typeMismatch(
                    "\(name) needs two strings, not \(arguments[0].expressionTypeName) and "
                        + "\(arguments[1].expressionTypeName)",
                    at: node)
            }
            try chargeScan(of: affix, at: node)
            let bytes = string.utf8
            let affixBytes = affix.utf8
            guard affixBytes.count <= bytes.count else { return false }
            return .bool(
                function == .startsWith
                    ? bytes.prefix(affixBytes.count).elementsEqual(affixBytes)
                    : bytes.suffix(affixBytes.count).elementsEqual(affixBytes))
        case .toJSON:
            try chargeWalk(of: arguments[0], at: node)
            let text = arguments[0].jsonString(.canonical)
            try checkLength(text.utf8.count, at: node)
            return .string(text)
        case .fromJSON:
            guard case .string(let text) = arguments[0] else {
                throw typeMismatch(
                    "fromJSON needs a string, not \(arguments[0].expressionTypeName)", at: node)
            }
            try chargeScan(of: text, at: node)
            do {
                return try JSONValue(parsing: text, maximumDepth: context.limits.maximumValueDepth)
            } catch {
                // The parser's message may quote the text, which may hold a secret: give the place only.
                throw failure(
                    .invalidArgument,
                    "fromJSON got a string that is not valid JSON (line \(error.line), column "
                        + "\(error.column) of the string) in \(quoted(node))",
                    at: node)
            }
        case .format:
            guard case .string(let format) = arguments[0] else {
                throw typeMismatch(
                    "format needs a format string, not \(arguments[0].expressionTypeName)", at: node)
            }
            return .string(try self.format(format, Array(arguments.dropFirst()), at: node))
        case .join:
            guard case .array(let elements) = arguments[0] else {
                throw typeMismatch(
                    "join needs an array, not \(arguments[0].expressionTypeName)", at: node)
            }
            var separator = ","
            if arguments.count > 1 {
                guard case .string(let given) = arguments[1] else {
                    throw typeMismatch(
                        "join needs a string separator, not \(arguments[1].expressionTypeName)",
                        at: node)
                }
                separator = given
            }
            var result = ""
            for (offset, element) in elements.enumerated() {
                try charge(1, at: node)
                if offset > 0 { result += separator }
                result += try render(element, at: node)
                try checkLength(result.utf8.count, at: node)
            }
            return .string(result)
        }
    }

    /// `{N}` placeholders, `{{` and `}}` escapes. Messages never quote the format string, which
    /// may come from a secret.
    private mutating func format(_ format: String, _ values: [JSONValue], at node: ExpressionNode)
        throws(ExpressionError) -> String
    {
        try chargeScan(of: format, at: node)
        let scalars = Array(format.unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        func invalid() -> ExpressionError {
            failure(
                .invalidArgument,
                "format string has a '{' or '}' that is neither a placeholder like {0} nor an "
                    + "escape ({{ or }}) in \(quoted(node))",
                at: node)
        }
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "}" {
                guard position + 1 < scalars.count, scalars[position + 1] == "}" else { throw invalid() }
                result.append("}")
                position += 2
            } else if scalar == "{" {
                if position + 1 < scalars.count, scalars[position + 1] == "{" {
                    result.append("{")
                    position += 2
                    continue
                }
                var index = 0
                var cursor = position + 1
                while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]) {
                    // Capped: any index beyond the values is as wrong as any other.
                    index = min(index * 10 + Int(scalars[cursor].value - 48), values.count + 1)
                    cursor += 1
                }
                guard cursor > position + 1, cursor < scalars.count, scalars[cursor] == "}" else {
                    throw invalid()
                }
                guard index < values.count else {
                    throw failure(
                        .invalidArgument,
                        "format string has a placeholder beyond the \(values.count) value(s) given in "
                            + "\(quoted(node))",
                        at: node)
                }
                result.append(contentsOf: try render(values[index], at: node).unicodeScalars)
                try checkLength(result.count, at: node)
                position = cursor + 1
            } else {
                result.append(scalar)
                position += 1
            }
        }
        let text = String(result)
        try checkLength(text.utf8.count, at: node)
        return text
    }
}
