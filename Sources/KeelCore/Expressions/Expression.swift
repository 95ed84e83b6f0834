/// A compiled `${{ }}` body: parsed once when the flow is loaded, with names, functions and
/// arity already checked and its references known, then evaluated any number of times.
///
/// Two expressions are equal when their source text (and position in an enclosing template) is.
public struct Expression: Sendable, Hashable {
    /// The expression text, without `${{` and `}}`.
    public let source: String
    /// Scalar offset of `source` in the string it was parsed from (non-zero inside a template).
    let columnOffset: Int
    let root: ExpressionNode
    /// What the expression reads, for static validation of the flow.
    public let references: ExpressionReferences

    /// Compiles an expression body such as `steps.test.status == 'succeeded'`.
    public init(parsing source: String, limits: ExpressionLimits = .default) throws(ExpressionError) {
        try self.init(
            body: Array(source.unicodeScalars), source: source, columnOffset: 0, limits: limits)
    }

    init(body: [Unicode.Scalar], source: String, columnOffset: Int, limits: ExpressionLimits)
        throws(ExpressionError)
    {
        (root, references) = try ExpressionParser.parse(
            body, columnOffset: columnOffset, limits: limits)
        self.source = source
        self.columnOffset = columnOffset
    }

    /// The expression's value, with its JSON type kept.
    public func evaluate(in context: ExpressionContext) throws(ExpressionError) -> JSONValue {
        var evaluator = ExpressionEvaluator(context: context)
        return try evaluator.evaluate(self)
    }

    /// The expression's value; appends to `usedSecrets` the value of every secret read that it does
    /// not already hold, so the caller can redact them from logs (also when evaluation fails).
    public func evaluate(in context: ExpressionContext, usedSecrets: inout [String])
        throws(ExpressionError) -> JSONValue
    {
        var evaluator = ExpressionEvaluator(context: context)
        defer { usedSecrets.appendNew(evaluator.usedSecretValues) }
        return try evaluator.evaluate(self)
    }

    public static func == (lhs: Expression, rhs: Expression) -> Bool {
        lhs.source == rhs.source && lhs.columnOffset == rhs.columnOffset
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(columnOffset)
    }
}

extension Expression: CustomStringConvertible {
    /// The source as it would be written in a flow: `${{ source }}`.
    public var description: String { "${{ \(source) }}" }
}

extension [String] {
    /// Appends the strings not already present.
    mutating func appendNew(_ strings: [String]) {
        for string in strings where !contains(string) { append(string) }
    }
}
