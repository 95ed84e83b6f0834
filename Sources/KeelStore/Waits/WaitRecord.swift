public import Foundation
public import KeelCore
import PGClient

/// A callback wait as `waits` records it.
public struct WaitRecord: Sendable, Hashable {
    /// `<run>:<step>:<attempt>:wait`, the id the run's history uses.
    public var id: String
    public var runID: UUID
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
        let schema = try row.decode(String?.self, at: 4).map { try JSONValue(parsing: $0) }
        let outcome = try row.decode(String?.self, at: 8).map { try JSONValue(parsing: $0) }
        return WaitRecord(
            id: try row.decode(String.self, at: 0), runID: try row.decode(UUID.self, at: 1),
            step: try row.decode(String.self, at: 2), attempt: try row.decode(Int.self, at: 3),
            schema: schema,
            openedAt: try row.decode(Date.self, at: 5), timeoutAt: try row.decode(Date.self, at: 6),
            heartbeatAt: try row.decode(Date?.self, at: 7), answer: outcome.flatMap(WaitAnswer.init(json:)),
            heartbeats: try row.decode(Int.self, at: 9), lastHeartbeatAt: try row.decode(Date?.self, at: 10),
            progress: try row.decode(String?.self, at: 11).map { try JSONValue(parsing: $0) })
    }
}
