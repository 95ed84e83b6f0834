/// Bounds that keep a hostile or careless expression from exhausting memory, stack or time: every
/// limit turns into an `ExpressionError` of kind `.limitExceeded`, never a crash or a hang.
public struct ExpressionLimits: Sendable, Hashable {
    /// Longest expression body, in Unicode scalars.
    public var maximumExpressionLength: Int
    /// Longest template string, in Unicode scalars.
    public var maximumTemplateLength: Int
    /// Deepest nesting of the syntax tree (parentheses, `!`, calls, indexing, operator chains).
    public var maximumDepth: Int
    /// Evaluation budget: one step per syntax node evaluated plus work proportional to the size of
    /// the values that functions, comparisons and rendering walk through.
    public var maximumSteps: Int
    /// Longest string, in UTF-8 bytes, that evaluation may build (`format`, `join`, `toJSON`,
    /// interpolated templates).
    public var maximumStringLength: Int
    /// Deepest JSON value that evaluation will compare, serialize or parse.
    public var maximumValueDepth: Int

    public init(
        maximumExpressionLength: Int = 4096,
        maximumTemplateLength: Int = 1 << 20,
        maximumDepth: Int = 64,
        maximumSteps: Int = 1_000_000,
        maximumStringLength: Int = 4 << 20,
        maximumValueDepth: Int = JSONValue.defaultMaximumDepth
    ) {
        self.maximumExpressionLength = maximumExpressionLength
        self.maximumTemplateLength = maximumTemplateLength
        self.maximumDepth = maximumDepth
        self.maximumSteps = maximumSteps
        self.maximumStringLength = maximumStringLength
        self.maximumValueDepth = maximumValueDepth
    }

    /// The limits Keel applies to flow files.
    public static let `default` = ExpressionLimits()
}
