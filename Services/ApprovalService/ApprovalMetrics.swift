import Foundation
import KeelCore
import KeelStore
import Metrics

/// The approval-service's own series: decisions by outcome and how long people took to settle a gate.
/// The pending gauge is kept by `PendingApprovalsGauge`.
struct ApprovalMetrics: Sendable {
    /// Records one accepted decision, and the gate's turnaround when that decision settled it.
    func record(_ decision: StepContext.Decision, settled approval: ApprovalRecord) {
        Counter(label: "keel_approval_decisions_total", dimensions: [("decision", decision.rawValue)])
            .increment()
        guard approval.status != .pending, let closedAt = approval.closedAt else { return }
        Recorder(label: "keel_approval_turnaround_seconds", dimensions: [("flow", approval.flow)])
            .record(closedAt.timeIntervalSince(approval.requestedAt))
    }
}
