import KeelCore
import KeelStore
import PGClient

/// A run as stored: its flow version and its history, read for `run show`, `cancel` and `retry`.
struct LoadedRun {
    let stored: StoredRun

    var flow: FlowDefinition { stored.flow }
    var facts: [RunFact] { stored.facts }
    /// The engine's state after the history.
    var state: RunState { stored.state }

    func timeline() throws -> RunTimeline {
        do {
            return try stored.timeline()
        } catch {
            throw CLIFailure.infrastructure("the run's history: \(error)")
        }
    }

    /// Throws `RunStoreError.unknownRun` for an id that names no run (exit 1), `CLIFailure` when the
    /// stored history or flow version cannot be read.
    static func load(run runID: String, pool: PGPool) async throws -> LoadedRun {
        do {
            return LoadedRun(stored: try await RunStore(pool: pool).stored(run: try RunID.named(runID)))
        } catch let error as StoredRunError {
            throw CLIFailure.infrastructure(error.description)
        }
    }
}
