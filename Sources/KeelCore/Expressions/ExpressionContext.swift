/// Everything an expression can read at evaluation time.
///
/// Secrets are not stored here but fetched through `secretResolver` only when an evaluation reaches
/// `secrets.NAME`, so compiling and validating flows never touches secret values.
public struct ExpressionContext: Sendable {
    /// `input`: the run's validated trigger input.
    public var input: JSONValue
    /// `steps.<id>`: the steps visible to the expression, by id. A step absent here reads as null.
    public var steps: [String: StepContext]
    /// `run`.
    public var run: RunContext
    /// `map`: set only while an element of a mapped step is decided or rendered.
    public var map: MapContext?
    /// `response`: set only while an `http` step's `usage` is read from its response (`{status, headers,
    /// body}`, as its outputs).
    public var response: JSONValue?
    /// Returns the value of a secret by name, or nil when there is none.
    public var secretResolver: @Sendable (String) -> String?
    /// Evaluation limits (steps, string length, value depth).
    public var limits: ExpressionLimits

    public init(
        input: JSONValue = .null,
        steps: [String: StepContext] = [:],
        run: RunContext,
        map: MapContext? = nil,
        limits: ExpressionLimits = .default,
        secrets secretResolver: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        self.input = input
        self.steps = steps
        self.run = run
        self.map = map
        self.limits = limits
        self.secretResolver = secretResolver
    }
}
