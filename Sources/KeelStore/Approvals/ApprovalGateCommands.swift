import Foundation
import KeelCore
import PGClient

/// Writes the engine's approval commands into `approvals`, inside the transaction that advanced the run:
/// a request opens a row (voiding an older pending request of the same step), a close ends the row with
/// the reason the run's new state tells.
struct ApprovalGateCommands {
    let runID: RunID
    let connection: PGConnection

    func open(_ request: ApprovalRequest, state: RunState, requester: String?, timeoutAt: Timestamp?)
        async throws
    {
        if let gate = state.budgetGate, gate.approvalID == request.approvalID {
            try await openBudget(gate, state: state, requester: requester)
            return
        }
        guard let trigger = state.trigger, let gate = state.flow.step(request.step)?.approvalGate else {
            return
        }
        let digests = request.bound.map(ApprovalDigest.of)
        let previous = try await connection.query(
            "SELECT digests FROM approvals WHERE run_id = \(runID) AND step = \(request.step) AND status = 'pending'"
        )
        let changed = try previous.contains { try $0.decode(([String]).self) != digests }
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

    /// A budget gate's approval: the budget's approvers, one approval settles it, nothing bound, no
    /// changes to request; it concerns the run, so no step's pending approval is voided.
    private func openBudget(_ gate: BudgetGate, state: RunState, requester: String?) async throws {
        guard let trigger = state.trigger, let budget = state.flow.budget else { return }
        let noDigests: [String] = []
        try await connection.execute(
            """
            INSERT INTO approvals (id, run_id, flow, version, step, attempt, summary, bound, digests, approvers,
                                   required_approvals, allow_self_approval, request_changes_step, requester,
                                   timeout_at)
            VALUES (\(gate.approvalID), \(runID), \(trigger.flow), \(trigger.version), \(gate.step), 0,
                    \(gate.summary), \(PGJSON(bytes: JSONValue.array([]).jsonBytes())), \(noDigests),
                    \(budget.approvers.map(\.description)), 1, \(budget.allowSelfApproval), \(nil as String?),
                    \(requester), \(nil as Date?))
            ON CONFLICT (id) DO NOTHING
            """)
    }

    /// Ends a still-pending approval the engine closed: its timeout decided, the run was cancelled, the run
    /// went back past the gate, or — for an approval beside a wait — the wait ended first. `facts` are the
    /// transition's. Approvals the approval-service decided are already closed.
    func close(_ approvalID: String, before: RunState, after: RunState, facts: [RunFact]) async throws {
        let stepID = before.steps.first { $0.value.approvalID == approvalID }?.key
        let step = stepID.flatMap { after.steps[$0] }
        let (status, reason) = Self.ending(of: stepID, step, after: after, facts: facts)
        try await connection.execute(
            """
            UPDATE approvals SET status = \(status.rawValue), closed_at = now(), closed_reason = \(reason)
            WHERE id = \(approvalID) AND status = 'pending'
            """)
    }

    /// The status and reason a closed approval is stored with.
    static func ending(of stepID: String?, _ step: StepState?, after: RunState, facts: [RunFact])
        -> (ApprovalStatus, String)
    {
        var timeout: TimeoutKind?
        for fact in facts {
            switch fact.event {
            case .callbackReceived(let id, _, let status, _) where id == stepID && status != .heartbeat:
                return (.void, "superseded: the wait's callback (\(status.rawValue)) came first")
            case .stepTimedOut(let id, _, let kind) where id == stepID:
                timeout = kind
            default:
                continue
            }
        }
        if let step, step.decision != nil {
            return (.timedOut, "the approval's timeout passed")
        }
        switch timeout {
        case .approval?: return (.timedOut, "the approval's timeout passed")
        case .wait?: return (.timedOut, "the wait's timeout passed first")
        case .heartbeat?: return (.timedOut, "the waited-for job sent no heartbeat in time")
        case .step?, .queue?: return (.timedOut, "the step's timeout passed")
        case nil: break
        }
        if after.status == .finished || after.cancelReason != nil {
            return (.cancelled, "the run was cancelled or finished")
        }
        return (.void, "the run went back past this gate")
    }
}
