import Foundation
import KeelCore
import PGClient

/// Writes the engine's approval commands into `approvals`, inside the transaction that advanced the run:
/// a request opens a row (voiding an older pending request of the same step), a close ends the row with
/// the reason the run's new state tells.
struct ApprovalGateCommands {
    let runID: UUID
    let connection: PGConnection

    func open(_ request: ApprovalRequest, state: RunState, requester: String?, timeoutAt: Timestamp?)
        async throws
    {
        guard let trigger = state.trigger, case .approval(let gate)? = state.flow.step(request.step)?.kind
        else {
            return
        }
        let digests = request.bound.map(ApprovalDigest.of)
        let previous = try await connection.query(
            "SELECT digests FROM approvals WHERE run_id = \(runID) AND step = \(request.step) AND status = 'pending'"
        )
        let changed = try previous.contains { try $0.decode([String].self, at: 0) != digests }
        try await connection.execute(
            """
            UPDATE approvals SET status = 'void', closed_at = now(), closed_reason = \(
                changed ? "superseded: the bound artifacts changed" : "superseded by a new request")
            WHERE run_id = \(runID) AND step = \(request.step) AND status = 'pending' AND id <> \(request.approvalID)
            """)
        try await connection.execute(
            """
            INSERT INTO approvals (id, run_id, flow, version, step, attempt, summary, bound, digests, approvers,
                                   required_approvals, allow_self_approval, request_changes_step, requester,
                                   timeout_at)
            VALUES (\(request.approvalID), \(runID), \(trigger.flow), \(trigger.version), \(request.step),
                    \(request.attempt), \(request.summary), \(PGJSON(bytes: JSONValue.array(request.bound).jsonBytes())),
                    \(digests), \(gate.approvers.map(\.description)), \(gate.requiredApprovals),
                    \(gate.allowSelfApproval), \(gate.requestChanges?.step), \(requester), \(timeoutAt?.date))
            ON CONFLICT (id) DO NOTHING
            """)
    }

    /// Ends a still-pending approval the engine closed: its timeout decided, the run was cancelled, or the
    /// run went back past the gate. Approvals the approval-service decided are already closed.
    func close(_ approvalID: String, before: RunState, after: RunState) async throws {
        let stepID = before.steps.first { $0.value.approvalID == approvalID }?.key
        let step = stepID.flatMap { after.steps[$0] }
        let (status, reason): (ApprovalStatus, String) =
            if let step, step.decision != nil || step.status == .timedOut {
                (.timedOut, "the approval's timeout passed")
            } else if after.status == .finished || after.cancelReason != nil {
                (.cancelled, "the run was cancelled or finished")
            } else {
                (.void, "the run went back past this gate")
            }
        try await connection.execute(
            """
            UPDATE approvals SET status = \(status.rawValue), closed_at = now(), closed_reason = \(reason)
            WHERE id = \(approvalID) AND status = 'pending'
            """)
    }
}
