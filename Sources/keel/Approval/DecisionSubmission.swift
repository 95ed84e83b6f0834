import ArgumentParser
import Foundation

/// What `keel approve`, `keel reject` and `keel request-changes` share: one decision sent to the
/// approval-service, then the approval as it stands afterwards.
enum DecisionSubmission {
    static func submit(
        _ decision: String, approval id: String, note: String?, digests: [String]?,
        service: ApprovalServiceOptions
    ) async throws {
        let body = try await service.withClient {
            try await $0.decide(id, decision: decision, note: note, digests: digests)
        }
        try service.emit(body, as: ApprovalShowDocument.self) { document in
            let approval = document.approval
            let verb =
                switch decision {
                case "approve": "approved"
                case "reject": "rejected"
                default: "requested changes on"
                }
            return "\(verb) \(approval.id); the approval is now \(approval.status) "
                + "(\(approval.approvalCount) of \(approval.requiredApprovals) approvals)\n\n"
                + ApprovalText.details(approval)
        }
    }

    /// A note that is required must say something.
    static func requireNote(_ note: String, service: ApprovalServiceOptions, why: String) throws {
        if note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw service.output.fail(.user("--note: \(why)"))
        }
    }
}
