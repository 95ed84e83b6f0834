import KeelCore
import KeelStore
import PGClient

/// A run as stored: its flow version and its history, read for `run show`, `cancel` and `retry`.
struct LoadedRun {
    let flow: FlowDefinition
    let facts: [RunFact]

    /// The engine's state after the history.
    var state: RunState { RunState.replay(facts, flow: flow) }

    func timeline() throws -> RunTimeline {
        do {
            return try RunTimeline(flow: flow, history: facts)
        } catch {
            throw CLIFailure.infrastructure("the run's history: \(error)")
        }
    }

    /// Throws `RunStoreError.unknownRun` for an id that names no run (exit 1), `CLIFailure` when the
    /// stored history or flow version cannot be read.
    static func load(run runID: String, pool: PGPool) async throws -> LoadedRun {
        let recorded = try await RunStore(pool: pool).history(run: runID)
        var facts: [RunFact] = []
        for fact in recorded {
            do {
                facts.append(try fact.entry.decodedFact())
            } catch {
                throw CLIFailure.infrastructure(
                    "run \(runID): history entry \(fact.seq) (\(fact.entry.kind)) cannot be read: \(error)")
            }
        }
        let trigger = facts.lazy.compactMap { fact -> RunTrigger? in
            if case .runTriggered(let trigger) = fact.event { return trigger }
            return nil
        }.first
        guard let trigger else {
            throw CLIFailure.infrastructure("run \(runID): its history has no run.triggered fact")
        }
        let record = try await FlowStore(pool: pool).version(flow: trigger.flow, number: trigger.version)
        do {
            let flow = try FlowDefinition(canonicalJSON: try JSONValue(parsing: record.definition))
            return LoadedRun(flow: flow, facts: facts)
        } catch {
            throw CLIFailure.infrastructure(
                "flow \(trigger.flow) v\(trigger.version): the stored definition cannot be read: \(error)")
        }
    }
}
