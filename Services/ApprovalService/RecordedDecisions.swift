import Foundation
import KeelCore
import KeelStore
import Logging
import Metrics

/// What the service tells operators about each accepted decision, whichever door it came through (the API
/// or the page): one log line, the decisions counter, and the gate's turnaround when the decision settled
/// it. The pending gauge is kept by `PendingApprovalsGauge`.
struct RecordedDecisions: Sendable {
    /// Where the line's correlation id and trace come from (the approval names the rest of the run).
    let runs: RunStore

    func record(
        _ decision: StepContext.Decision, settled approval: ApprovalRecord, by approver: String,
        via door: String,
        logger: Logger
    ) async {
        // The decision is committed; a failed look-up only leaves the correlation id and trace off the line.
        let run = RunLogContext(approval)
        let context =
            (try? await runs.logContext(of: approval.runID)).flatMap { run.filling(from: $0) } ?? run
        logger.info(
            "approval decision recorded",
            metadata: context.metadata(adding: [
                "approval_id": .string(approval.id), "decision": .string(decision.rawValue),
                "approver": .string(approver), "status": .string(approval.status.rawValue),
                "via": .string(door),
            ]))
        Counter(label: "keel_approval_decisions_total", dimensions: [("decision", decision.rawValue)])
            .increment()
        guard approval.status != .pending, let closedAt = approval.closedAt else { return }
        Recorder(label: "keel_approval_turnaround_seconds", dimensions: [("flow", approval.flow)])
            .record(closedAt.timeIntervalSince(approval.requestedAt))
    }
}
