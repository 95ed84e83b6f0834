import Foundation
import KeelCore
import PGClient

/// The engine's side of sub-flows, carried out in the transaction that advanced a run: asking
/// trigger-intake for a child run, cancelling a child whose parent step stopped, and handing a finished
/// child's outcome to the parent step waiting for it.
///
/// Locks are taken parent first when a parent stops its child, and child first when a child reports to
/// its parent; the rare transaction caught between the two is a deadlock PostgreSQL breaks and
/// `withTransaction` runs again.
struct SubflowCommands {
    /// The header naming the parent step's wait on a child's trigger: trigger-intake checks it against
    /// the parent's history before it believes it.
    static let parentHeader = "keel-parent-wait"

    let runID: RunID
    let state: RunState
    let advancer: RunAdvancer
    let connection: PGConnection

    /// The child's trigger, as any publisher would send it, plus the parent's wait; the wait id is its
    /// idempotency key, so one attempt of the step makes one child however often this is sent.
    func trigger(_ request: SubflowRequest) -> OutboxMessage {
        let trigger = state.trigger
        let body: JSONObject = [
            "flow": .string(request.flow), "input": request.input, "idempotency_key": .string(request.waitID),
            "actor": .string(trigger?.actor ?? "anonymous"),
        ]
        return OutboxMessage(
            exchange: "keel.subflows", routingKey: request.flow, correlationID: trigger?.correlationID,
            headers: OutboxMessage.traced(
                ["keel-schema": "1", "keel-type": "trigger", Self.parentHeader: request.waitID],
                trigger?.traceparent),
            body: JSONValue.object(body).jsonBytes())
    }

    /// Cancels the child run of a stopped `flow` step attempt, if trigger-intake has created it and it
    /// has not finished. A child not created yet never will be: intake refuses a parent no longer waiting.
    func stopChild(step: String, attempt: Int, reason: String, at: Timestamp) async throws {
        guard let parentRunID = state.trigger?.runID else { return }
        let waitID = AttemptID(run: parentRunID, step: step, attempt: attempt).waitID
        let rows = try await connection.query(
            """
            SELECT id FROM runs
            WHERE parent_wait_id = \(waitID) AND status NOT IN ('succeeded', 'failed', 'cancelled')
            """)
        guard let (child) = try rows.first?.decode((RunID).self) else { return }
        let why = "the parent run's step '\(step)' stopped: \(reason)"
        try await RunAdvancer.$advancing.withValue(RunAdvancer.advancing.union([runID])) {
            _ = try await advancer.advance(run: child, on: connection) { child in
                child.status == .running
                    ? RunFact(at: at, event: .runCancelRequested(actor: nil, reason: why)) : nil
            }
        }
    }

    /// Hands this finished child's outcome to its parent: `callback.received` on the parent step's wait,
    /// succeeded with `{run_id, outcome, steps}` (each step's outputs) or failed with an `error`. Skipped
    /// when the parent is the run stopping this child: its step has already ended.
    func reportToParent(_ outcome: RunOutcome, at: Timestamp) async throws {
        guard let trigger = state.trigger, let parent = trigger.parent,
            !RunAdvancer.advancing.contains(parent.runID)
        else { return }
        var steps = JSONObject()
        for id in state.order {
            guard let outputs = state.steps[id]?.outputs, !outputs.isEmpty else { continue }
            steps[id] = .object(outputs)
        }
        var output: JSONObject = [
            "run_id": .string(trigger.runID.description), "outcome": .string(outcome.rawValue),
            "steps": .object(steps),
        ]
        let status: CallbackStatus = outcome == .succeeded ? .succeeded : .failed
        if outcome != .succeeded {
            let verb = outcome == .cancelled ? "was cancelled" : "failed"
            output["error"] = .string(
                "the child run \(trigger.runID) of \(trigger.flow) \(verb)"
                    + (state.finishReason.map { ": \($0)" } ?? ""))
        }
        try await advancer.advance(run: parent.runID, on: connection) { parentState in
            guard let waiting = parentState.steps[parent.step], waiting.status == .waiting,
                waiting.waitID == parent.waitID
            else { return nil }
            return RunFact(
                at: at,
                event: .callbackReceived(
                    step: parent.step, waitID: parent.waitID, status: status, output: .object(output)))
        }
    }
}
