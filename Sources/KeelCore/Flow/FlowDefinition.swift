/// A validated flow: the DAG of steps a run executes, and the rules around it.
///
/// `FlowParser` (from YAML), `init(canonicalJSON:)` and `Codable` validate what they build; the
/// memberwise `init` does not, so code that assembles a flow by hand should round-trip it through
/// `init(canonicalJSON: flow.jsonValue)` before trusting it. Template strings (`${{ … }}`) are kept as
/// written; they are evaluated per run by the expression engine.
public struct FlowDefinition: Sendable, Hashable {
    /// `^[a-z0-9][a-z0-9._-]{0,127}$`; unique per Keel installation.
    public var name: String
    public var description: String?
    /// JSON Schema (draft 2020-12) every trigger input must satisfy; nil accepts any input.
    public var input: JSONValue?
    /// Limits how many runs sharing a key (a template) run at once.
    public var concurrency: ConcurrencyLimit?
    /// Template whose value routes all of a key's runs to the same partition.
    public var shardKey: String?
    /// The whole run's deadline; when it passes, the run is cancelled.
    public var timeout: FlowDuration?
    /// When runs start by themselves (the live release's schedules fire); ids are unique.
    public var schedules: [FlowSchedule]
    /// In declaration order; ids are unique and `needs` form a DAG.
    public var steps: [StepDefinition]
    /// Webhooks told about this flow's approvals and failed runs (`notify:`); at most 10.
    public var notify: [FlowNotification]
    /// Per-run spending limits (`budget:`); nil spends without limit.
    public var budget: FlowBudget?

    public init(
        name: String, description: String? = nil, input: JSONValue? = nil,
        concurrency: ConcurrencyLimit? = nil, shardKey: String? = nil, timeout: FlowDuration? = nil,
        schedules: [FlowSchedule] = [], steps: [StepDefinition], notify: [FlowNotification] = [],
        budget: FlowBudget? = nil
    ) {
        self.budget = budget
        self.notify = notify
        self.schedules = schedules
        self.name = name
        self.description = description
        self.input = input
        self.concurrency = concurrency
        self.shardKey = shardKey
        self.timeout = timeout
        self.steps = steps
    }

    /// The step with this id.
    public func step(_ id: String) -> StepDefinition? {
        steps.first { $0.id == id }
    }

    /// What an attempt's step id runs: the step itself, or for an element id (`apply[3]`) the mapped step.
    public func definition(ofStepOrElement id: String) -> StepDefinition? {
        if let step = step(id) { return step }
        guard let element = MapElement.parse(id), let step = step(element.step), step.map != nil else {
            return nil
        }
        return step
    }
}

/// At most `limit` runs (or steps) with the same evaluated `key` run at once; the rest queue.
public struct ConcurrencyLimit: Sendable, Hashable {
    /// A template, e.g. `${{ input.repo }}`.
    public var key: String
    public var limit: Int

    public init(key: String, limit: Int) {
        self.key = key
        self.limit = limit
    }
}
