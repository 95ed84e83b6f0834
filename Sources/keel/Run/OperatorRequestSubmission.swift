import Foundation
import KeelCore
import KeelStore
import PGClient

/// Carries an operator's request (`run cancel`, `run retry`) to a run through the engine.
enum OperatorRequestSubmission {
    /// What the request did: the fact added and the run's timeline afterwards.
    struct Result: Encodable {
        var runID: String
        var fact: RunFact
        var run: RunTimeline
    }

    /// Refuses a request that does not fit the run (exit 1, with the reason), else adds its fact.
    static func submit(_ request: OperatorRequest, run runID: String, pool: PGPool) async throws -> Result {
        let loaded = try await LoadedRun.load(run: runID, pool: pool)
        let now = Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        switch request.fact(for: loaded.state, at: now) {
        case .failure(let refusal):
            throw CLIFailure.user(refusal.description)
        case .success:
            throw CLIFailure.infrastructure(
                "this build of keel cannot add facts to a run yet: the engine's run advancer is not part of it"
            )
        }
    }
}
