import Foundation
public import KeelCore
public import PGClient

/// Advances runs: the one function every service uses to add a fact from the world to a run (DESIGN §1).
///
/// In a single transaction it locks the run, folds the fact through the run's deterministic reducer,
/// appends the fact and the reducer's derived facts to the history, stores the new state, and carries
/// out the commands: attempts and their dispatches (after their concurrency slots), timers, events and
/// the run's outcome, all written to the outbox so nothing leaves before the commit (invariant 3).
public struct RunAdvancer: Sendable {
    let pool: PGPool
    public let reducers: RunReducers
    let states = RunStateCache()
    public let settings: EngineSettings
    /// Counts what each committed advance appended.
    public let metrics: RunMetrics
    /// The runs whose commands this task is carrying out: a child cancelled by its parent does not report
    /// back to the parent in the middle of the parent's own advance.
    @TaskLocal static var advancing: Set<RunID> = []

    public init(
        pool: PGPool, reducers: RunReducers = RunReducers(), settings: EngineSettings = EngineSettings(),
        metrics: RunMetrics = RunMetrics()
    ) {
        self.pool = pool
        self.reducers = reducers
        self.settings = settings
        self.metrics = metrics
    }

    /// Advances `runID` in a transaction of its own. `decide` sees the run's current state and returns
    /// the fact to add, or nil to add nothing (the fact no longer applies).
    @discardableResult
    public func advance(run runID: RunID, _ decide: (RunState) throws -> RunFact?) async throws -> RunAdvance
    {
        try await withTransaction { connection in
            try await advance(run: runID, on: connection, decide)
        }
    }

    /// Advances `runID` inside the caller's transaction, so the caller's own writes (a claimed lease, a
    /// fired timer's deletion) commit or roll back together with the facts. Open that transaction with
    /// `withTransaction`, which records the advance's metrics once it has committed.
    @discardableResult
    public func advance(
        run runID: RunID, on connection: PGConnection, _ decide: (RunState) throws -> RunFact?
    ) async throws -> RunAdvance {
        let advance = try await advanceUncounted(run: runID, on: connection, decide)
        if !advance.ignored { CommittedAdvances.current?.append(advance) }
        return advance
    }

    private func advanceUncounted(
        run runID: RunID, on connection: PGConnection, _ decide: (RunState) throws -> RunFact?
    ) async throws -> RunAdvance {
        let loaded = try await load(runID, on: connection)
        guard let fact = try decide(loaded.state) else {
            return RunAdvance(
                state: loaded.state, previous: loaded.state, facts: [], commands: [], ignored: true)
        }
        let transition = loaded.reducer.reduce(loaded.state, fact)
        guard !transition.ignored else {
            return RunAdvance(
                state: loaded.state, previous: loaded.state, facts: [], commands: [], ignored: true)
        }
        let facts = [fact] + transition.derived
        try await append(facts, to: loaded.id, after: loaded.lastSeq, on: connection)
        if let deferred = DeferredSnapshots.current {
            deferred.keep(transition.state, lastSeq: loaded.lastSeq + facts.count, of: loaded.id)
        } else {
            try await writeSnapshot(
                transition.state, lastSeq: loaded.lastSeq + facts.count, of: loaded.id, on: connection)
        }
        let commands = RunCommands(
            runID: loaded.id, state: transition.state, settings: settings, connection: connection,
            advancer: self)
        try await Self.$advancing.withValue(Self.advancing.union([loaded.id])) {
            try await commands.carryOut(transition.commands, before: loaded.state, facts: facts)
        }
        let advance = RunAdvance(
            state: transition.state, previous: loaded.state, facts: facts, commands: transition.commands,
            ignored: false)
        return try await applyKeptCallbacks(after: advance, run: runID, on: connection)
    }

    /// Stores a run's state, status and history position in its row (locked by the caller).
    func writeSnapshot(_ state: RunState, lastSeq: Int, of id: RunID, on connection: PGConnection)
        async throws
    {
        let updated = try await connection.query(
            """
            UPDATE runs SET state = \(PGJSON(bytes: Array(try JSONEncoder().encode(RunSnapshot(state))))),
                   status = \(Self.status(of: state)), last_seq = \(lastSeq), updated_at = now(),
                   finished_at = CASE WHEN \(state.status == .finished) THEN now() ELSE finished_at END
            WHERE id = \(id)
            RETURNING xmin::text
            """)
        if let (rowVersion) = try updated.first?.decode((String).self) {
            states.store(state, of: id, rowVersion: rowVersion)
        }
    }

    /// Runs `body` with every snapshot write deferred to its end (`DeferredSnapshots`), then writes
    /// each advanced run's row once, in the same transaction.
    func withDeferredSnapshots<T: Sendable>(on connection: PGConnection, _ body: () async throws -> T)
        async throws -> T
    {
        let deferred = DeferredSnapshots()
        let result = try await DeferredSnapshots.$current.withValue(deferred) { try await body() }
        for (run, pending) in deferred.take() {
            try await writeSnapshot(pending.state, lastSeq: pending.lastSeq, of: run, on: connection)
        }
        return result
    }

    /// Applies the callbacks that arrived before the waits this advance opened: each becomes the run's
    /// next fact, in this transaction, so an early callback is applied exactly once.
    private func applyKeptCallbacks(after advance: RunAdvance, run runID: RunID, on connection: PGConnection)
        async throws -> RunAdvance
    {
        var combined = advance
        for case .openWait(let step, _, let waitID, _, _) in advance.commands {
            guard let kept = try await KeptCallback.pending(for: waitID, on: connection) else { continue }
            let applied = try await advanceUncounted(run: runID, on: connection) { _ in kept.fact(step: step)
            }
            guard !applied.ignored else { continue }
            try await kept.markApplied(on: connection)
            combined.state = applied.state
            combined.facts += applied.facts
            combined.commands += applied.commands
        }
        return combined
    }

    private struct Loaded {
        var id: RunID
        var reducer: RunReducer
        var state: RunState
        var lastSeq: Int
    }

    private func load(_ id: RunID, on connection: PGConnection) async throws -> Loaded {
        // The snapshot is only sent when this process does not hold the row's current state already.
        let cachedVersion = states.rowVersion(of: id)
        let rows = try await connection.query(
            """
            SELECT flow, version, CASE WHEN xmin::text = \(cachedVersion) THEN NULL ELSE state::text END,
                   last_seq, xmin::text
            FROM runs WHERE id = \(id) FOR UPDATE
            """)
        guard let row = rows.first else { throw RunStoreError.unknownRun(id.description) }
        let (flow, version, snapshot, lastSeq, rowVersion) = try row.decode(
            (String, Int, String?, Int, String).self)
        let reducer = try await reducer(flow: flow, version: version, on: connection)
        // Advanced earlier in this transaction, its row not written yet: that state is the current one.
        if let pending = DeferredSnapshots.current?.pending(of: id) {
            return Loaded(id: id, reducer: reducer, state: pending.state, lastSeq: pending.lastSeq)
        }
        if let cached = states.state(of: id, rowVersion: rowVersion) {
            return Loaded(id: id, reducer: reducer, state: cached, lastSeq: lastSeq)
        }
        if let snapshot,
            let decoded = try? JSONDecoder().decode(RunSnapshot.self, from: Data(snapshot.utf8)),
            let state = decoded.state(flow: reducer.flow)
        {
            return Loaded(id: id, reducer: reducer, state: state, lastSeq: lastSeq)
        }
        let facts = try await connection.query(
            "SELECT fact::text FROM run_history WHERE run_id = \(id) ORDER BY seq"
        ).map { row in
            let (fact) = try row.decode((String).self)
            return try JSONDecoder().decode(RunFact.self, from: Data(fact.utf8))
        }
        return Loaded(
            id: id, reducer: reducer, state: RunState.replay(facts, flow: reducer.flow), lastSeq: lastSeq)
    }

    /// The reducer of a run's pinned version.
    func reducer(flow: String, version: Int, on connection: PGConnection) async throws -> RunReducer {
        if let cached = reducers.cached(flow: flow, version: version) { return cached }
        let rows = try await connection.query(
            "SELECT definition::text FROM flow_versions WHERE flow = \(flow) AND version = \(version)")
        guard let row = rows.first else {
            throw PGError(code: .protocolViolation, message: "the run's flow version is missing")
        }
        let (definition) = try row.decode((String).self)
        return try reducers.reducer(flow: flow, version: version) { definition }
    }

    private func append(_ facts: [RunFact], to id: RunID, after lastSeq: Int, on connection: PGConnection)
        async throws
    {
        let entries = try facts.map(HistoryEntry.init)
        try await connection.execute(
            """
            INSERT INTO run_history (run_id, seq, kind, step, attempt, actor, error_class, fact)
            SELECT \(id), seq, kind, step, attempt, actor, error_class, fact::jsonb
            FROM unnest(\(entries.indices.map { lastSeq + 1 + $0 }), \(entries.map(\.kind)),
                        \(entries.map(\.step)), \(entries.map(\.attempt)), \(entries.map(\.actor)),
                        \(entries.map(\.errorClass)), \(entries.map(\.fact)))
                 AS t(seq, kind, step, attempt, actor, error_class, fact)
            """)
    }

    /// `runs.status`: pending before the trigger; the outcome once finished; `waiting` while every
    /// unfinished step waits for a person or a callback; else `running`.
    static func status(of state: RunState) -> String {
        switch state.status {
        case .pending: return "pending"
        case .finished: return (state.outcome ?? .failed).rawValue
        case .running:
            let open = state.steps.values.filter { !$0.status.isFinal && $0.status != .pending }
            // A budget gate waits for people too, with the steps it holds still pending.
            let waits = !open.isEmpty || state.budgetGate != nil
            return waits && open.allSatisfy { $0.status == .waiting } ? "waiting" : "running"
        }
    }
}

/// What advancing a run did.
public struct RunAdvance: Sendable {
    /// The run's state after the fact (unchanged when ignored).
    public var state: RunState
    /// The run's state before the fact, which the facts were folded into.
    public var previous: RunState
    /// The fact and the reducer's derived facts, as appended.
    public var facts: [RunFact]
    public var commands: [RunCommand]
    /// True when nothing was recorded: `decide` returned nil, or the reducer did not accept the fact.
    public var ignored: Bool

    public init(
        state: RunState, previous: RunState, facts: [RunFact], commands: [RunCommand], ignored: Bool
    ) {
        self.state = state
        self.previous = previous
        self.facts = facts
        self.commands = commands
        self.ignored = ignored
    }
}
