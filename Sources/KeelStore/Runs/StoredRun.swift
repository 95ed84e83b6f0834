public import KeelCore

/// A run as its history tells it: the flow version it pinned and every fact so far, decoded. Read by
/// whatever shows a run (`keel run show`, the approvals page) or asks what it would decide next.
public struct StoredRun: Sendable {
    public let flow: FlowDefinition
    public let facts: [RunFact]

    /// The engine's state after the history.
    public var state: RunState { RunState.replay(facts, flow: flow) }

    public func timeline() throws -> RunTimeline { try RunTimeline(flow: flow, history: facts) }
}

/// Why a stored run could not be read: a history entry or its flow version does not decode.
public struct StoredRunError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}

extension RunStore {
    /// Throws `RunStoreError.unknownRun` for an id that names no run, `StoredRunError` when its history or
    /// flow version cannot be read.
    public func stored(run runID: RunID) async throws -> StoredRun {
        try await stored(run: runID, history: try await history(run: runID))
    }

    /// The same from a history already read (`history(run:)`), for a caller that shows the history too.
    public func stored(run runID: RunID, history recorded: [RecordedFact]) async throws -> StoredRun {
        var facts: [RunFact] = []
        facts.reserveCapacity(recorded.count)
        for fact in recorded {
            do {
                facts.append(try fact.entry.decodedFact())
            } catch {
                throw StoredRunError(
                    description:
                        "run \(runID): history entry \(fact.seq) (\(fact.entry.kind)) cannot be read: \(error)"
                )
            }
        }
        let trigger = facts.lazy.compactMap { fact -> RunTrigger? in
            if case .runTriggered(let trigger) = fact.event { return trigger }
            return nil
        }.first
        guard let trigger else {
            throw StoredRunError(description: "run \(runID): its history has no run.triggered fact")
        }
        let record = try await FlowStore(pool: pool).version(flow: trigger.flow, number: trigger.version)
        do {
            let flow = try FlowDefinition(canonicalJSON: try JSONValue(parsing: record.definition))
            return StoredRun(flow: flow, facts: facts)
        } catch {
            throw StoredRunError(
                description:
                    "flow \(trigger.flow) v\(trigger.version): the stored definition cannot be read: \(error)"
            )
        }
    }
}
