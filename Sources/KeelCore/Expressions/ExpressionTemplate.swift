/// A string from a flow file that may contain `${{ expression }}` parts, compiled once.
///
/// A template that is exactly one `${{ }}` evaluates to that expression's value with its JSON type
/// kept (so `"${{ input.count }}"` can be a number); any other template evaluates to a string. `$${{`
/// writes a literal `${{`.
public struct ExpressionTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case expression(Expression)
    }

    /// The template as written.
    public let source: String
    let parts: [Part]
    /// Everything the template's expressions read.
    public let references: ExpressionReferences

    /// Compiles a template; expression errors report columns within `source`.
    public init(parsing source: String, limits: ExpressionLimits = .default) throws(ExpressionError) {
        let scalars = Array(source.unicodeScalars)
        guard scalars.count <= limits.maximumTemplateLength else {
            throw ExpressionError(
                kind: .limitExceeded,
                message: "template is longer than \(limits.maximumTemplateLength) characters",
                column: 1, text: ExpressionError.excerpt(source))
        }
        var parts: [Part] = []
        var references = ExpressionReferences()
        var text = String.UnicodeScalarView()
        var position = 0
        while position < scalars.count {
            if scalars.hasPrefix("$${{", at: position) {
                text.append(contentsOf: "${{".unicodeScalars)
                position += 4
            } else if scalars.hasPrefix("${{", at: position) {
                let bodyStart = position + 3
                guard let bodyEnd = Self.closingBraces(in: scalars, from: bodyStart) else {
                    throw ExpressionError(
                        kind: .syntax,
                        message: "unterminated '${{', expected '}}' after the expression",
                        column: position + 1,
                        text: ExpressionError.excerpt(String(String.UnicodeScalarView(scalars[position...]))))
                }
                if !text.isEmpty {
                    parts.append(.text(String(text)))
                    text = String.UnicodeScalarView()
                }
                let body = Array(scalars[bodyStart..<bodyEnd])
                let expression = try Expression(
                    body: body, source: String(String.UnicodeScalarView(body)), columnOffset: bodyStart,
                    limits: limits)
                references.formUnion(expression.references)
                parts.append(.expression(expression))
                position = bodyEnd + 2
            } else {
                text.append(scalars[position])
                position += 1
            }
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        self.source = source
        self.parts = parts
        self.references = references
    }

    /// The index of the `}}` that ends an expression starting at `start`, skipping quoted strings.
    static func closingBraces(in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var position = start
        var inString = false
        while position < scalars.count {
            let scalar = scalars[position]
            if inString {
                if scalar == "'" {
                    if position + 1 < scalars.count, scalars[position + 1] == "'" {
                        position += 1
                    } else {
                        inString = false
                    }
                }
            } else if scalar == "'" {
                inString = true
            } else if scalar == "}", position + 1 < scalars.count, scalars[position + 1] == "}" {
                return position
            }
            position += 1
        }
        return nil
    }

    /// True when the template has no `${{ }}` parts: it always evaluates to `literalText`.
    public var isLiteral: Bool {
        parts.allSatisfy { if case .text = $0 { true } else { false } }
    }

    /// The text a literal template stands for (escapes resolved); nil when it has expressions.
    public var literalText: String? {
        guard isLiteral else { return nil }
        if case .text(let text) = parts.first { return text }
        return ""
    }

    /// The compiled expressions, in order.
    public var expressions: [Expression] {
        parts.compactMap { if case .expression(let expression) = $0 { expression } else { nil } }
    }

    /// The template's value: the typed value of a lone expression, else the interpolated string.
    public func evaluate(in context: ExpressionContext) throws(ExpressionError) -> JSONValue {
        var evaluator = ExpressionEvaluator(context: context)
        return try evaluate(with: &evaluator)
    }

    /// The template's value; appends to `usedSecrets` the value of every secret read that it does
    /// not already hold, so the caller can redact them from logs (also when evaluation fails).
    public func evaluate(in context: ExpressionContext, usedSecrets: inout [String])
        throws(ExpressionError) -> JSONValue
    {
        var evaluator = ExpressionEvaluator(context: context)
        defer { usedSecrets.appendNew(evaluator.usedSecretValues) }
        return try evaluate(with: &evaluator)
    }

    private func evaluate(with evaluator: inout ExpressionEvaluator) throws(ExpressionError)
        -> JSONValue
    {
        if parts.count == 1, case .expression(let expression) = parts[0] {
            return try evaluator.evaluate(expression)
        }
        var result = ""
        for part in parts {
            switch part {
            case .text(let text):
                result += text
            case .expression(let expression):
                let value = try evaluator.evaluate(expression)
                try evaluator.append(value, of: expression, to: &result)
            }
        }
        return .string(result)
    }

    public static func == (lhs: ExpressionTemplate, rhs: ExpressionTemplate) -> Bool {
        lhs.source == rhs.source
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

extension ExpressionTemplate: CustomStringConvertible {
    public var description: String { source }
}
