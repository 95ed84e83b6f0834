import KeelCore
import KeelStore
import PGClient

/// Carries an operator's request (`run cancel`, `run retry`) to a run through the engine's
/// `RunAdvancer`, the same function every service uses: the run is locked, the request checked against
/// its current state, and the fact, the engine's decisions and their commands committed together.
enum OperatorRequestSubmission {
    /// What the request did: the facts added (the request's first) and the run's timeline afterwards.
    struct Result: Encodable {
        var runID: String
        var fact: RunFact
        var derived: [RunFact]
        var run: RunTimeline
    }

    /// Refuses a request that does not fit the run (exit 1, with the reason), else adds its fact.
    static func submit(_ request: OperatorRequest, run runID: String, pool: PGPool) async throws -> Result {
        let at = Timestamp.now
        let advancer = RunAdvancer(pool: pool, settings: engineSettings())
        let advance: RunAdvance
        do {
            advance = try await advancer.advance(run: try RunID.named(runID)) { state in
                try request.fact(for: state, at: at).get()
            }
        } catch let refusal as OperatorRequestRefusal {
            throw CLIFailure.user(refusal.description)
        }
        guard !advance.ignored, let fact = advance.facts.first else {
            throw CLIFailure.user("run \(runID): the engine did not accept the request")
        }
        let timeline = try await LoadedRun.load(run: runID, pool: pool).timeline()
        return Result(runID: runID, fact: fact, derived: Array(advance.facts.dropFirst()), run: timeline)
    }

    /// The queue layout the services use (`KEEL_STEP_SHARDS`, docs/configuration.md): a retry
    /// dispatches steps, and their queue names depend on it.
    static func engineSettings() -> EngineSettings {
        let shards = Int(CLISettings().value("KEEL_STEP_SHARDS", flag: nil, default: "4")) ?? 4
        return EngineSettings(stepShards: shards)
    }
}
