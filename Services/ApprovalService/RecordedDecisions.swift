import Foundation
import KeelCore
import KeelStore
import Logging
import Metrics

/// What the service tells operators about each accepted decision, whichever door it came through (the API
/// or the page): one log line, the decisions counter, and the gate's turnaround when the decision settled
/// it. The pending gauge is kept by `PendingApprovalsGauge`.
struct RecordedDecisions: Sendable {
    func record(
        _ decision: StepContext.Decision, settled approval: ApprovalRecord, by approver: String,
        via door: String,
        logger: Logger
    ) {
        logger.info(
            "approval decision recorded",
            metadata: [
                "approval_id": .string(approval.id), "run_id": .string(approval.runID),
                "flow": .string(approval.flow), "step": .string(approval.step),
                "decision": .string(decision.rawValue), "approver": .string(approver),
                "status": .string(approval.status.rawValue), "via": .string(door),
                "trace_id": .string(approval.traceID ?? "-"),
            ])
        Counter(label: "keel_approval_decisions_total", dimensions: [("decision", decision.rawValue)])
            .increment()
        guard approval.status != .pending, let closedAt = approval.closedAt else { return }
        Recorder(label: "keel_approval_turnaround_seconds", dimensions: [("flow", approval.flow)])
            .record(closedAt.timeIntervalSince(approval.requestedAt))
    }
}
