/// Recursive-descent parser from tokens to an `ExpressionNode`, resolving roots, functions and
/// arity at compile time and collecting the expression's static references.
///
/// Grammar (lowest precedence first):
///
///     expression = or
///     or         = and { "||" and }
///     and        = equality { "&&" equality }
///     equality   = comparison { ("==" | "!=") comparison }
///     comparison = unary { ("<" | "<=" | ">" | ">=") unary }
///     unary      = "!" unary | postfix
///     postfix    = primary { "." name | "[" expression "]" }
///     primary    = literal | "(" expression ")" | name "(" [ expression { "," expression } ] ")" | root
struct ExpressionParser {
    private let scalars: [Unicode.Scalar]
    private let tokens: [ExpressionToken]
    private let columnOffset: Int
    private let limits: ExpressionLimits
    private var position = 0
    private var recursion = 0
    private(set) var references = ExpressionReferences()

    /// Parses a whole body; `columnOffset` is the body's scalar offset in an enclosing template.
    static func parse(
        _ scalars: [Unicode.Scalar], columnOffset: Int, limits: ExpressionLimits
    ) throws(ExpressionError) -> (ExpressionNode, ExpressionReferences) {
        guard scalars.count <= limits.maximumExpressionLength else {
            throw ExpressionError(
                kind: .limitExceeded,
                message:
                    "expression is longer than \(limits.maximumExpressionLength) characters",
                column: columnOffset + 1,
                text: ExpressionError.excerpt(String(String.UnicodeScalarView(scalars.prefix(60)))))
        }
        let tokens = try ExpressionLexer.tokenize(scalars, columnOffset: columnOffset)
        var parser = ExpressionParser(
            scalars: scalars, tokens: tokens, columnOffset: columnOffset, limits: limits)
        if parser.current.kind == .end {
            throw parser.error(.syntax, "empty expression", at: parser.current)
        }
        let node = try parser.parseExpression()
        guard parser.current.kind == .end else {
            throw parser.unexpected(parser.current)
        }
        return (node, parser.references)
    }

    private init(
        scalars: [Unicode.Scalar], tokens: [ExpressionToken], columnOffset: Int,
        limits: ExpressionLimits
    ) {
        self.scalars = scalars
        self.tokens = tokens
        self.columnOffset = columnOffset
        self.limits = limits
    }

    // MARK: Tokens and errors

    private var current: ExpressionToken { tokens[position] }

    private mutating func advance() -> ExpressionToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func text(_ start: Int, _ end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[min(start, scalars.count)..<min(end, scalars.count)])
        return String(view)
    }

    private func error(
        _ kind: ExpressionError.Kind, _ message: String, start: Int, end: Int
    ) -> ExpressionError {
        ExpressionError(
            kind: kind, message: message, column: columnOffset + start + 1,
            text: ExpressionError.excerpt(text(start, end)))
    }

    private func error(
        _ kind: ExpressionError.Kind, _ message: String, at token: ExpressionToken
    ) -> ExpressionError {
        error(kind, message, start: token.start, end: token.end)
    }

    private func unexpected(_ token: ExpressionToken, expecting: String? = nil) -> ExpressionError {
        let found =
            token.kind == .end
            ? "unexpected end of expression"
            : "unexpected '\(ExpressionError.excerpt(text(token.start, token.end)))'"
        let message = expecting.map { "\(found), expected \($0)" } ?? found
        return error(.syntax, message, at: token)
    }

    private mutating func expect(_ kind: ExpressionToken.Kind, _ spelled: String)
        throws(ExpressionError) -> ExpressionToken
    {
        guard current.kind == kind else { throw unexpected(current, expecting: "'\(spelled)'") }
        return advance()
    }

    /// Bounds the parser's own recursion (`(`, `[`, call arguments, `!`), so hostile input cannot
    /// overflow the stack before a tree exists; `checked` bounds the height of the tree itself.
    private mutating func enter(at token: ExpressionToken) throws(ExpressionError) {
        recursion += 1
        if recursion > limits.maximumDepth { throw tooDeep(start: token.start, end: token.end) }
    }

    private mutating func leave() { recursion -= 1 }

    private func tooDeep(start: Int, end: Int) -> ExpressionError {
        error(
            .limitExceeded, "expression nests deeper than \(limits.maximumDepth) levels",
            start: start, end: end)
    }

    /// The node, unless the tree has grown taller than evaluation may recurse.
    private func checked(_ node: ExpressionNode) throws(ExpressionError) -> ExpressionNode {
        guard node.depth <= limits.maximumDepth else {
            throw tooDeep(start: node.start, end: node.end)
        }
        return node
    }

    // MARK: Operators

    private mutating func parseExpression() throws(ExpressionError) -> ExpressionNode {
        try enter(at: current)
        defer { leave() }
        return try parseLogical(.or)
    }

    private mutating func parseLogical(_ op: ExpressionNode.LogicalOperator)
        throws(ExpressionError) -> ExpressionNode
    {
        let token: ExpressionToken.Kind = op == .or ? .or : .and
        var operands = [op == .or ? try parseLogical(.and) : try parseEquality()]
        while current.kind == token {
            _ = advance()
            operands.append(op == .or ? try parseLogical(.and) : try parseEquality())
        }
        guard operands.count > 1, let first = operands.first, let last = operands.last else {
            return operands[0]
        }
        return try checked(
            ExpressionNode(
                .logical(op, operands), start: first.start, end: last.end, children: operands))
    }

    private static func comparisonOperator(_ kind: ExpressionToken.Kind, equality: Bool)
        -> ExpressionNode.ComparisonOperator?
    {
        switch kind {
        case .equal where equality: return .equal
        case .notEqual where equality: return .notEqual
        case .less where !equality: return .less
        case .lessOrEqual where !equality: return .lessOrEqual
        case .greater where !equality: return .greater
        case .greaterOrEqual where !equality: return .greaterOrEqual
        default: return nil
        }
    }

    private mutating func parseEquality() throws(ExpressionError) -> ExpressionNode {
        var left = try parseComparison()
        while let op = Self.comparisonOperator(current.kind, equality: true) {
            _ = advance()
            let right = try parseComparison()
            left = try checked(
                ExpressionNode(
                    .comparison(op, left, right), start: left.start, end: right.end,
                    children: [left, right]))
        }
        return left
    }

    private mutating func parseComparison() throws(ExpressionError) -> ExpressionNode {
        var left = try parseUnary()
        while let op = Self.comparisonOperator(current.kind, equality: false) {
            _ = advance()
            let right = try parseUnary()
            left = try checked(
                ExpressionNode(
                    .comparison(op, left, right), start: left.start, end: right.end,
                    children: [left, right]))
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> ExpressionNode {
        guard current.kind == .not else { return try parsePostfix() }
        let bang = advance()
        try enter(at: bang)
        defer { leave() }
        let operand = try parseUnary()
        return try checked(
            ExpressionNode(.not(operand), start: bang.start, end: operand.end, children: [operand]))
    }

    // MARK: Postfix and paths

    /// The statically known part of a path from `input` or `steps.<id>.outputs`, tracked while
    /// parsing a postfix chain; a computed index closes it.
    private struct StaticPath {
        enum Root {
            case input
            case stepOutputs(id: String, column: Int)
            case none
        }

        var root: Root
        var components: [ExpressionReferences.PathComponent] = []
        var isOpen = true

        static let none = StaticPath(root: .none)

        mutating func append(_ component: ExpressionReferences.PathComponent?) {
            guard isOpen else { return }
            if let component { components.append(component) } else { isOpen = false }
        }
    }

    private mutating func parsePostfix() throws(ExpressionError) -> ExpressionNode {
        var (node, path) = try parsePrimary()
        while true {
            if current.kind == .dot {
                _ = advance()
                let name = try parseMemberName()
                node = try checked(
                    ExpressionNode(
                        .member(node, name.value), start: node.start, end: name.end,
                        children: [node]))
                path.append(.key(name.value))
            } else if current.kind == .leftBracket {
                _ = advance()
                let index = try parseExpression()
                let close = try expect(.rightBracket, "]")
                switch index.kind {
                case .literal(.string(let key)):
                    node = try checked(
                        ExpressionNode(
                            .member(node, key), start: node.start, end: close.end, children: [node]))
                    path.append(.key(key))
                case .literal(.number(let number)):
                    node = try checked(
                        ExpressionNode(
                            .index(node, index), start: node.start, end: close.end,
                            children: [node, index]))
                    path.append(number.int64Value.flatMap { $0 >= 0 ? .index(Int($0)) : nil })
                default:
                    node = try checked(
                        ExpressionNode(
                            .index(node, index), start: node.start, end: close.end,
                            children: [node, index]))
                    path.append(nil)
                }
            } else {
                break
            }
        }
        record(path)
        return node
    }

    private mutating func record(_ path: StaticPath) {
        switch path.root {
        case .input:
            references.add(inputPath: path.components)
        case .stepOutputs(let id, let column):
            var name: String?
            if case .key(let key) = path.components.first { name = key }
            references.add(step: .init(stepID: id, field: .outputs(name: name), column: column))
        case .none:
            break
        }
    }

    /// A name after `.`: any word, including `true`, `null` and the like.
    private mutating func parseMemberName() throws(ExpressionError) -> (value: String, end: Int) {
        guard case .word(let name) = current.kind else {
            throw unexpected(current, expecting: "a name after '.'")
        }
        let token = advance()
        return (name, token.end)
    }

    /// `.name` or `['name']` after a root that needs a static selector (`steps`, `run`, `secrets`).
    private mutating func parseSelector(after what: String) throws(ExpressionError) -> (
        value: String, token: ExpressionToken
    ) {
        if current.kind == .dot {
            _ = advance()
            guard case .word(let name) = current.kind else {
                throw unexpected(current, expecting: "a name after '\(what).'")
            }
            return (name, advance())
        }
        if current.kind == .leftBracket {
            _ = advance()
            guard case .string(let name) = current.kind else {
                throw unexpected(current, expecting: "a quoted name after '\(what)['")
            }
            let token = advance()
            _ = try expect(.rightBracket, "]")
            return (name, token)
        }
        throw unexpected(current, expecting: "'.' after '\(what)'")
    }

    // MARK: Primary

    private mutating func parsePrimary() throws(ExpressionError) -> (ExpressionNode, StaticPath) {
        let token = current
        switch token.kind {
        case .string(let value):
            _ = advance()
            return (ExpressionNode(.literal(.string(value)), start: token.start, end: token.end), .none)
        case .number(let value):
            _ = advance()
            return (ExpressionNode(.literal(.number(value)), start: token.start, end: token.end), .none)
        case .leftParen:
            _ = advance()
            let inner = try parseExpression()
            let close = try expect(.rightParen, ")")
            return (
                ExpressionNode(
                    inner.kind, start: token.start, end: close.end, children: children(of: inner)),
                .none
            )
        case .word(let name):
            _ = advance()
            if current.kind == .leftParen { return (try parseCall(name, token), .none) }
            return try parseRoot(name, token)
        default:
            throw unexpected(token)
        }
    }

    /// Children of a node, so a parenthesised node keeps its height.
    private func children(of node: ExpressionNode) -> [ExpressionNode] {
        switch node.kind {
        case .literal, .input, .stepOutputs, .stepStatus, .stepDecision, .run, .map, .response, .secret:
            return []
        case .member(let base, _): return [base]
        case .index(let base, let index): return [base, index]
        case .not(let operand): return [operand]
        case .comparison(_, let left, let right): return [left, right]
        case .logical(_, let operands): return operands
        case .call(_, let arguments): return arguments
        }
    }

    private mutating func parseRoot(_ name: String, _ token: ExpressionToken) throws(ExpressionError)
        -> (ExpressionNode, StaticPath)
    {
        switch name {
        case "true", "false":
            return (
                ExpressionNode(.literal(.bool(name == "true")), start: token.start, end: token.end), .none
            )
        case "null":
            return (ExpressionNode(.literal(.null), start: token.start, end: token.end), .none)
        case "input":
            return (ExpressionNode(.input, start: token.start, end: token.end), StaticPath(root: .input))
        case "steps":
            return try parseStep(token)
        case "run":
            let (fieldName, fieldToken) = try parseSelector(after: "run")
            guard let field = RunField(rawValue: fieldName) else {
                let known = RunField.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(
                    .unknownName, "unknown run field '\(fieldName)', expected one of \(known)",
                    at: fieldToken)
            }
            references.add(runField: field)
            return (ExpressionNode(.run(field), start: token.start, end: fieldToken.end), .none)
        case "map":
            let (fieldName, fieldToken) = try parseSelector(after: "map")
            guard let field = MapField(rawValue: fieldName) else {
                throw error(
                    .unknownName,
                    "unknown map field '\(ExpressionError.excerpt(fieldName))', expected item or index",
                    at: fieldToken)
            }
            references.add(mapField: field)
            return (ExpressionNode(.map(field), start: token.start, end: fieldToken.end), .none)
        case "response":
            references.readsResponse = true
            return (ExpressionNode(.response, start: token.start, end: token.end), .none)
        case "secrets":
            let (secret, secretToken) = try parseSelector(after: "secrets")
            references.add(secret: secret)
            return (ExpressionNode(.secret(secret), start: token.start, end: secretToken.end), .none)
        default:
            if ExpressionFunction(rawValue: name) != nil {
                throw unexpected(current, expecting: "'(' after function name '\(name)'")
            }
            throw error(
                .unknownName,
                "unknown name '\(ExpressionError.excerpt(name))', expected input, steps, run, map, secrets, "
                    + "true, false, null or a function call",
                at: token)
        }
    }

    private mutating func parseStep(_ token: ExpressionToken) throws(ExpressionError) -> (
        ExpressionNode, StaticPath
    ) {
        let (id, _) = try parseSelector(after: "steps")
        let (field, fieldToken) = try parseSelector(after: "steps.\(id)")
        let column = columnOffset + token.start + 1
        switch field {
        case "outputs":
            return (
                ExpressionNode(.stepOutputs(id), start: token.start, end: fieldToken.end),
                StaticPath(root: .stepOutputs(id: id, column: column))
            )
        case "status":
            references.add(step: .init(stepID: id, field: .status, column: column))
            return (ExpressionNode(.stepStatus(id), start: token.start, end: fieldToken.end), .none)
        case "decision":
            references.add(step: .init(stepID: id, field: .decision, column: column))
            return (ExpressionNode(.stepDecision(id), start: token.start, end: fieldToken.end), .none)
        default:
            throw error(
                .unknownName,
                "unknown step field '\(ExpressionError.excerpt(field))', expected outputs, status or decision",
                at: fieldToken)
        }
    }

    private mutating func parseCall(_ name: String, _ nameToken: ExpressionToken)
        throws(ExpressionError)
        -> ExpressionNode
    {
        guard let function = ExpressionFunction(rawValue: name) else {
            let known = ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(
                .unknownName,
                "unknown function '\(ExpressionError.excerpt(name))', expected one of \(known)",
                at: nameToken)
        }
        _ = advance()
        var arguments: [ExpressionNode] = []
        if current.kind != .rightParen {
            while true {
                arguments.append(try parseExpression())
                guard current.kind == .comma else { break }
                _ = advance()
            }
        }
        let close = try expect(.rightParen, ")")
        guard function.arity.contains(arguments.count) else {
            throw error(
                .wrongArity,
                "\(name) takes \(function.arityDescription), got \(arguments.count)",
                start: nameToken.start, end: close.end)
        }
        return try checked(
            ExpressionNode(
                .call(function, arguments), start: nameToken.start, end: close.end, children: arguments))
    }
}
