public import Foundation
import KeelCore
import PGClient

extension RunStore {
    /// Every run created at or after `since` (of `flow` when given), oldest first (by id, a UUIDv7),
    /// with its history and its flow version: what `keel stats` folds. Two queries whatever the number
    /// of runs: the histories in one, the flow versions they pinned in the other. Throws
    /// `StoredRunError` when a history entry or a flow version cannot be read.
    public func storedRuns(since: Date, flow: String? = nil) async throws -> [StoredRun] {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT r.id, h.seq, h.kind, h.fact::text
                FROM runs r JOIN run_history h ON h.run_id = r.id
                WHERE r.created_at >= \(since) AND (\(flow)::text IS NULL OR r.flow = \(flow))
                ORDER BY r.id, h.seq
                """)
            var histories: [(runID: RunID, facts: [RunFact])] = []
            for row in rows {
                let (runID, seq, kind, factJSON) = try row.decode((RunID, Int, String, String).self)
                let entry = HistoryEntry(kind: kind, fact: factJSON)
                let fact: RunFact
                do {
                    fact = try entry.decodedFact()
                } catch {
                    throw StoredRunError(
                        description:
                            "run \(runID): history entry \(seq) (\(entry.kind)) cannot be read: \(error)")
                }
                if histories.last?.runID == runID {
                    histories[histories.count - 1].facts.append(fact)
                } else {
                    histories.append((runID, [fact]))
                }
            }
            let definitions = try await Self.pinnedDefinitions(since: since, flow: flow, on: connection)
            return try histories.map { runID, facts in
                guard let trigger = facts.lazy.compactMap(\.trigger).first else {
                    throw StoredRunError(description: "run \(runID): its history has no run.triggered fact")
                }
                guard
                    let definition = definitions[PinnedVersion(flow: trigger.flow, version: trigger.version)]
                else {
                    throw StoredRunError(
                        description: "run \(runID): flow \(trigger.flow) v\(trigger.version) is not stored")
                }
                return StoredRun(flow: definition, facts: facts)
            }
        }
    }

    /// The definitions of the flow versions the chosen runs pinned.
    private static func pinnedDefinitions(
        since: Date, flow: String?, on connection: PGConnection
    ) async throws -> [PinnedVersion: FlowDefinition] {
        let rows = try await connection.query(
            """
            SELECT v.flow, v.version, v.definition::text FROM flow_versions v
            WHERE (v.flow, v.version) IN (
                SELECT DISTINCT flow, version FROM runs
                WHERE created_at >= \(since) AND (\(flow)::text IS NULL OR flow = \(flow)))
            """)
        var definitions: [PinnedVersion: FlowDefinition] = [:]
        for row in rows {
            let (flow, version, definition) = try row.decode((String, Int, String).self)
            let pinned = PinnedVersion(flow: flow, version: version)
            do {
                definitions[pinned] = try FlowDefinition(canonicalJSON: try JSONValue(parsing: definition))
            } catch {
                let version = "flow \(pinned.flow) v\(pinned.version)"
                throw StoredRunError(
                    description: "\(version): the stored definition cannot be read: \(error)")
            }
        }
        return definitions
    }
}

private struct PinnedVersion: Hashable {
    let flow: String
    let version: Int
}

extension RunFact {
    fileprivate var trigger: RunTrigger? {
        if case .runTriggered(let trigger) = event { return trigger }
        return nil
    }
}
