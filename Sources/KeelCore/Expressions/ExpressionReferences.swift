/// What an expression reads, found statically so a flow validator can reject a typo'd step id or a
/// step that reads another step's outputs without `needs`-ing it, and list the secrets a flow uses.
///
/// Each list holds every distinct reference once.
public struct ExpressionReferences: Sendable, Hashable {
    /// Which part of a step is read.
    public enum StepField: Sendable, Hashable {
        /// `steps.<id>.outputs.<name>`; `name` is nil when the whole outputs object is read or the
        /// output is chosen by a computed index.
        case outputs(name: String?)
        case status
        case decision
    }

    /// One read of `steps.<id>...`.
    public struct StepReference: Sendable, Hashable {
        public let stepID: String
        public let field: StepField
        /// 1-based column of the `steps` root, for the validator's error message.
        public let column: Int

        public init(stepID: String, field: StepField, column: Int) {
            self.stepID = stepID
            self.field = field
            self.column = column
        }
    }

    /// A statically known step into `input`.
    public enum PathComponent: Sendable, Hashable, CustomStringConvertible {
        case key(String)
        case index(Int)

        public var description: String {
            switch self {
            case .key(let key): return "['\(key.replacing("'", with: "''"))']"
            case .index(let index): return "[\(index)]"
            }
        }
    }

    /// Steps read, with the field; one entry per distinct (step, field).
    public private(set) var steps: [StepReference] = []
    /// Names of secrets read.
    public private(set) var secrets: [String] = []
    /// Paths read under `input`, up to the first computed index (`input` alone is `[]`).
    public private(set) var inputPaths: [[PathComponent]] = []
    /// Fields of `run` read.
    public private(set) var runFields: [RunField] = []
    /// Fields of `map` read.
    public private(set) var mapFields: [MapField] = []
    /// Whether `response` is read (only an `http` step's `usage` may).
    public internal(set) var readsResponse = false

    public init() {}

    /// The distinct step ids referenced, in source order.
    public var stepIDs: [String] {
        var seen = Set<String>()
        return steps.map(\.stepID).filter { seen.insert($0).inserted }
    }

    /// True when nothing outside the expression's literals is read.
    public var isEmpty: Bool {
        steps.isEmpty && secrets.isEmpty && inputPaths.isEmpty && runFields.isEmpty && mapFields.isEmpty
            && !readsResponse
    }

    mutating func add(step: StepReference) {
        guard !steps.contains(where: { $0.stepID == step.stepID && $0.field == step.field }) else {
            return
        }
        steps.append(step)
    }

    mutating func add(secret: String) {
        if !secrets.contains(secret) { secrets.append(secret) }
    }

    mutating func add(inputPath: [PathComponent]) {
        if !inputPaths.contains(inputPath) { inputPaths.append(inputPath) }
    }

    mutating func add(mapField: MapField) {
        if !mapFields.contains(mapField) { mapFields.append(mapField) }
    }

    mutating func add(runField: RunField) {
        if !runFields.contains(runField) { runFields.append(runField) }
    }

    /// Adds everything `other` references.
    mutating func formUnion(_ other: ExpressionReferences) {
        for step in other.steps { add(step: step) }
        for secret in other.secrets { add(secret: secret) }
        for path in other.inputPaths { add(inputPath: path) }
        for field in other.runFields { add(runField: field) }
        for field in other.mapFields { add(mapField: field) }
        if other.readsResponse { readsResponse = true }
    }
}
