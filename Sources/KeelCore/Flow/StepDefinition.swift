/// One node of a flow's DAG: what to do, when it may start, and how it is retried and bounded.
public struct StepDefinition: Sendable, Hashable {
    /// `^[a-z][a-z0-9_-]{0,63}$`, unique in the flow.
    public var id: String
    /// Steps that must finish before this one starts (a set, kept sorted).
    public var needs: [String]
    /// Template (`if:`); the step is skipped when it evaluates to false.
    public var condition: String?
    public var kind: StepKind
    public var retry: RetryPolicy?
    /// Deadline for the whole step, all attempts and retry delays included.
    public var timeout: FlowDuration?
    /// How long the step may wait for a worker or a concurrency slot before it fails as timed out.
    public var queueTimeout: FlowDuration?
    public var concurrency: ConcurrencyLimit?
    /// Worker pool labels; a worker must carry all of them to take the step.
    public var runsOn: [String]
    /// Named results, by name (of each element, for a mapped step).
    public var outputs: [String: StepOutput]
    /// Run once per element of a list instead of once.
    public var map: StepMap?

    public init(
        id: String, needs: [String] = [], condition: String? = nil, kind: StepKind, retry: RetryPolicy? = nil,
        timeout: FlowDuration? = nil, queueTimeout: FlowDuration? = nil, concurrency: ConcurrencyLimit? = nil,
        runsOn: [String] = [], outputs: [String: StepOutput] = [:], map: StepMap? = nil
    ) {
        self.id = id
        self.needs = needs
        self.condition = condition
        self.kind = kind
        self.retry = retry
        self.timeout = timeout
        self.queueTimeout = queueTimeout
        self.concurrency = concurrency
        self.runsOn = runsOn
        self.outputs = outputs
        self.map = map
    }
}

/// What a step does; exactly one per step (a `run` or `ssh` step may also carry a `wait`, and a wait an
/// `approval`).
public enum StepKind: Sendable, Hashable {
    case run(RunAction)
    case http(HTTPAction)
    case ssh(SSHAction)
    /// A coding agent's command-line tool on a working copy (docs/agents.md).
    case agent(AgentAction)
    case approval(ApprovalGate)
    case wait(WaitCondition)
    /// Does nothing; joins branches or marks a milestone.
    case noop
    /// Starts another flow as a child run and waits for its outcome (YAML key `flow`).
    case subflow(SubflowAction)

    /// The YAML key of this kind.
    public var name: String {
        switch self {
        case .run: "run"
        case .http: "http"
        case .ssh: "ssh"
        case .agent: "agent"
        case .approval: "approval"
        case .wait: "wait"
        case .noop: "noop"
        case .subflow: "flow"
        }
    }

    static let names = ["run", "http", "ssh", "agent", "approval", "wait", "noop", "flow"]

    /// The callback wait of a `wait` step, or of a `run` or `ssh` step with `wait`.
    public var waitCondition: WaitCondition? {
        switch self {
        case .wait(let condition): condition
        case .run(let action): action.wait
        case .ssh(let action): action.wait
        case .http, .agent, .approval, .noop, .subflow: nil
        }
    }
}

extension StepDefinition {
    /// The callback wait of a `wait` step, or of a `run` or `ssh` step with `wait`.
    public var waitCondition: WaitCondition? { kind.waitCondition }

    /// The approval gate of an `approval` step, or the one a wait requests beside it.
    public var approvalGate: ApprovalGate? {
        if case .approval(let gate) = kind { return gate }
        return waitCondition?.approval
    }
}

/// A result a step publishes for later steps (`${{ steps.ID.outputs.NAME }}`).
public enum StepOutput: Sendable, Hashable {
    /// A small JSON value carried in the step's result message.
    case inline
    /// A stored resource (large artifact) addressed by SHA-256, with its file name and media type.
    case resource(name: String, mediaType: String)
}
