public import KeelCore
public import PGClient

/// Loads what `keel flow shadow` replays: a flow version (`FlowStore`) and the recorded runs of the flow
/// with their histories and pinned versions (`RunStore`). Reads only; the shadow itself is
/// `ShadowReport`, pure and without side effects.
public struct ShadowRuns: Sendable {
    let pool: PGPool

    /// How many recent runs a shadow replays when not told.
    public static let defaultRunCount = 20

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Shadows `runIDs`, or when empty the `count` most recent finished runs of `flow` that ran another
    /// version, against `version`. A report with no runs means there was nothing recorded to replay.
    public func report(flow: String, version: Int, count: Int = defaultRunCount, runIDs: [RunID] = [])
        async throws -> ShadowReport
    {
        let record = try await FlowStore(pool: pool).version(flow: flow, number: version)
        let candidate: FlowDefinition
        do {
            candidate = try FlowDefinition(canonicalJSON: try JSONValue(parsing: record.definition))
        } catch {
            throw ShadowRunsError(
                description: "flow \(flow) v\(version): the stored definition cannot be read: \(error)")
        }
        let runs = RunStore(pool: pool)
        var ids = runIDs
        if ids.isEmpty {
            ids = try await runs.recentFinished(flow: flow, excludingVersion: version, limit: count)
        }
        var recordings: [ShadowRecording] = []
        for id in ids {
            let stored = try await runs.stored(run: id)
            guard let trigger = stored.state.trigger else {
                throw ShadowRunsError(description: "run \(id) has no run.triggered fact")
            }
            guard trigger.flow == flow else {
                throw ShadowRunsError(
                    description: "run \(id) is a run of flow '\(trigger.flow)', not '\(flow)'")
            }
            recordings.append(
                ShadowRecording(flow: stored.flow, version: trigger.version, facts: stored.facts))
        }
        return ShadowReport(flow: flow, version: version, candidate: candidate, recordings: recordings)
    }
}

/// Why a shadow could not be made: a run named is not the flow's, or a stored record does not read.
public struct ShadowRunsError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}
