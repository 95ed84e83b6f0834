import Foundation
import KeelCore
import PGClient

/// Writes the engine's wait commands into `waits`, inside the transaction that advanced the run: an open
/// inserts the row, a close ends it with the answer every later callback gets.
struct WaitCommands {
    let runID: RunID
    let connection: PGConnection

    func open(
        step: String, attempt: Int, waitID: String, timeoutAt: Timestamp, heartbeatAt: Timestamp?,
        state: RunState
    )
        async throws
    {
        let schema = state.flow.step(step)?.waitCondition?.schema
        try await connection.execute(
            """
            INSERT INTO waits (id, run_id, step, attempt, schema, timeout_at, heartbeat_at)
            VALUES (\(waitID), \(runID), \(step), \(attempt), \(schema.map { PGJSON(bytes: $0.jsonBytes()) }),
                    \(timeoutAt.date), \(heartbeatAt?.date))
            ON CONFLICT (id) DO NOTHING
            """)
    }

    /// Ends a wait the engine closed. `facts` are the transition's: the callback, timeout, cancellation or
    /// decision (of an approval beside the wait) that ended it is among them; with none of those, the run
    /// went back past the step.
    func close(_ waitID: String, facts: [RunFact]) async throws {
        var ending = WaitEnding.void
        for fact in facts {
            switch fact.event {
            case .callbackReceived(_, let id, let status, _) where id == waitID && status != .heartbeat:
                ending = WaitEnding(status)
            case .stepTimedOut(let step, let attempt, _) where waitID == wait(step, attempt):
                ending = .timedOut
            case .stepCancelled(let step, let attempt, _) where waitID == wait(step, attempt):
                ending = .cancelled
            case .approvalDecided(_, let approvalID, _, _, _)
            where AttemptID(approvalID: approvalID)?.waitID == waitID:
                ending = .decided
            default:
                continue
            }
        }
        let closedAt = Date()
        let answer = WaitAnswer(waitID: waitID, status: ending, closedAt: closedAt)
        try await connection.execute(
            """
            UPDATE waits SET status = 'closed', closed_at = \(closedAt),
                   outcome = \(PGJSON(bytes: answer.json.jsonBytes()))
            WHERE id = \(waitID) AND status = 'open'
            """)
    }

    /// Keeps a heartbeat applied to an open wait in place, whether or not the history recorded it
    /// (`HeartbeatRecording`): the count, the latest one's time and progress, and the deadline the engine
    /// enforces. One row per wait, however many heartbeats arrive.
    func heartbeat(_ waitID: String, due: Timestamp?, progress: JSONValue) async throws {
        try await connection.execute(
            """
            UPDATE waits SET heartbeat_at = \(due?.date), heartbeats = heartbeats + 1, last_heartbeat_at = now(),
                   progress = \(PGJSON(bytes: progress.jsonBytes()))
            WHERE id = \(waitID) AND status = 'open'
            """)
    }

    /// The id of this run's wait for a step's attempt, to match the step's facts against a wait.
    private func wait(_ step: String, _ attempt: Int) -> String {
        AttemptID(run: runID, step: step, attempt: attempt).waitID
    }
}
