public import Foundation
public import KeelCore
import PGClient

/// A callback wait as `waits` records it.
public struct WaitRecord: Sendable, Hashable {
    /// `<run>:<step>:<attempt>:wait`, the id the run's history uses.
    public var id: String
    public var runID: RunID
    public var step: String
    public var attempt: Int
    /// The step's `wait.schema`, which a callback's output must match.
    public var schema: JSONValue?
    public var openedAt: Date
    public var timeoutAt: Date
    /// The next heartbeat is due by then; nil when the wait has no heartbeat interval.
    public var heartbeatAt: Date?
    /// The stored answer once the wait closed; nil while it is open.
    public var answer: WaitAnswer?
    /// Heartbeats received while it was open (the history records only some, `HeartbeatRecording`).
    public var heartbeats: Int = 0
    /// When the latest heartbeat arrived, and the progress (output) it carried.
    public var lastHeartbeatAt: Date?
    public var progress: JSONValue?

    public var isOpen: Bool { answer == nil }

    static func load(_ id: String, on connection: PGConnection) async throws -> WaitRecord? {
        guard
            let row = try await connection.query(
                """
                SELECT id, run_id, step, attempt, schema::text, opened_at, timeout_at, heartbeat_at, outcome::text,
                       heartbeats, last_heartbeat_at, progress::text
                FROM waits WHERE id = \(id)
                """
            ).first
        else { return nil }
        let (
            id, runID, step, attempt, schema, openedAt, timeoutAt, heartbeatAt, outcome, heartbeats,
            lastHeartbeatAt, progress
        ) = try row.decode(
            (String, RunID, String, Int, String?, Date, Date, Date?, String?, Int, Date?, String?).self)
        let answer = try outcome.map { try JSONValue(parsing: $0) }.flatMap(WaitAnswer.init(json:))
        return WaitRecord(
            id: id, runID: runID, step: step, attempt: attempt,
            schema: try schema.map { try JSONValue(parsing: $0) }, openedAt: openedAt, timeoutAt: timeoutAt,
            heartbeatAt: heartbeatAt, answer: answer, heartbeats: heartbeats,
            lastHeartbeatAt: lastHeartbeatAt,
            progress: try progress.map { try JSONValue(parsing: $0) })
    }
}
