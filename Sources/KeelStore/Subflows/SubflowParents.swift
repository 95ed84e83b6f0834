import Foundation
public import KeelCore
public import PGClient

/// What trigger-intake checks before it believes a trigger's claim to be a child run: the parent's own
/// history must hold the `subflow.started` of that wait, naming this flow with exactly this input.
///
/// The claim is a header any publisher could write, and a child inherits its parent's requester (which
/// separation of duties compares approvers with), so an unchecked claim would let a publisher borrow
/// someone else's identity. Checked, the only trigger it can make is the one the parent asked for, which
/// its idempotency key (the wait id) makes once.
public struct SubflowParents: Sendable {
    /// The trigger header naming the parent step's wait.
    public static let header = SubflowCommands.parentHeader

    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// The parent a child's trigger names, when its history asked for exactly this child; nil when no run
    /// asked for it (a forged or mistaken header).
    public func verify(waitID: String, flow: String, input: JSONValue) async throws -> VerifiedParent? {
        guard let waited = AttemptID(waitID: waitID) else { return nil }
        let (run, step, attempt) = (waited.run, waited.step, waited.attempt)
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT r.depth, t.fact::text, s.fact::text
                FROM runs r
                JOIN run_history t ON t.run_id = r.id AND t.kind = 'run.triggered'
                JOIN run_history s ON s.run_id = r.id AND s.kind = 'subflow.started'
                                  AND s.step = \(step) AND s.attempt = \(attempt)
                WHERE r.id = \(run)
                """)
        }
        guard let row = rows.first else { return nil }
        let (depth, triggeredFact, startedFact) = try row.decode((Int, String, String).self)
        let decoder = JSONDecoder()
        let triggered = try decoder.decode(RunFact.self, from: Data(triggeredFact.utf8))
        let started = try decoder.decode(RunFact.self, from: Data(startedFact.utf8))
        guard case .runTriggered(let trigger) = triggered.event,
            case .subflowStarted(let request) = started.event,
            request.waitID == waitID, request.flow == flow, request.input == input
        else { return nil }
        return VerifiedParent(
            parent: RunParent(runID: trigger.runID, step: step, waitID: waitID), depth: depth,
            trigger: trigger)
    }
}

/// A parent whose history asked for the child being created.
public struct VerifiedParent: Sendable, Hashable {
    public var parent: RunParent
    /// The parent's nesting depth (0 for a run nobody started).
    public var depth: Int
    /// The parent's trigger: the child takes its actor, requester, correlation id and trace.
    public var trigger: RunTrigger
}

/// The parent step no longer waits for the child a trigger would create (it was stopped, or its
/// attempt ended): no child is created.
public struct SubflowParentNotWaiting: Error, Sendable, CustomStringConvertible {
    public var parent: RunParent
    public var description: String {
        "run \(parent.runID) no longer waits on \(parent.waitID) for this child run"
    }
}
