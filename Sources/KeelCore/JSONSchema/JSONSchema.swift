/// A JSON Schema (draft 2020-12) compiled once, then used to validate any number of instances,
/// from any thread.
///
/// Compiling checks the schema (keyword values, regular expressions, `$ref` targets) and builds a
/// table of subschemas, so validation does no parsing, resolving or regex compilation.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "required": ["task"],
///                              "properties": ["task": ["type": "string", "maxLength": 4000]]])
/// let errors = schema.validate(input)   // [] when valid
/// ```
public struct JSONSchema: Sendable {
    /// Bounds that keep validation finite and the stack safe on any input.
    public struct Limits: Sendable, Hashable {
        /// Deepest nesting of subschema evaluations (instance depth plus `$ref` chains); the
        /// default leaves a wide stack margin even in debug builds on secondary threads.
        public var maximumDepth: Int
        /// Most subschema evaluations in one validation, a guard against exponential schemas
        /// (nested `anyOf` over recursive `$ref`s).
        public var maximumSteps: Int
        /// Most matcher steps one `pattern` may take on one string (the matcher never backtracks, so
        /// this is about the string's length times the pattern's size): a 1 MiB string against a
        /// small pattern fits; the bound holds whatever the pattern's lookarounds do.
        public var maximumPatternSteps: Int

        public init(
            maximumDepth: Int = 512, maximumSteps: Int = 1_000_000, maximumPatternSteps: Int = 20_000_000
        ) {
            self.maximumDepth = maximumDepth
            self.maximumSteps = maximumSteps
            self.maximumPatternSteps = maximumPatternSteps
        }
    }

    /// The schema document this validator was compiled from.
    public let document: JSONValue
    /// The bounds applied to every validation.
    public let limits: Limits
    private let nodes: [SchemaNode]
    private let tracksAnnotations: Bool

    /// Compiles `document`; throws with the schema location of the first problem.
    public init(_ document: JSONValue, limits: Limits = Limits()) throws(JSONSchemaCompileError) {
        var compiler = SchemaCompiler(document: document)
        try compiler.compile()
        self.document = document
        self.limits = limits
        self.nodes = compiler.nodes
        self.tracksAnnotations = compiler.usesUnevaluated
    }

    /// Every reason `instance` does not satisfy the schema; empty when it does.
    public func validate(_ instance: JSONValue) -> [JSONSchemaValidationError] {
        var evaluator = SchemaEvaluator(
            nodes: nodes, tracksAnnotations: tracksAnnotations, limits: limits, collecting: true)
        _ = evaluator.evaluate(0, instance)
        return evaluator.errors
    }

    /// Whether `instance` satisfies the schema; faster than `validate` as it stops at the first failure.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = SchemaEvaluator(
            nodes: nodes, tracksAnnotations: tracksAnnotations, limits: limits, collecting: false)
        let valid = evaluator.evaluate(0, instance).valid
        return valid && !evaluator.aborted
    }
}
