import Foundation
import KeelCore
import KeelStore

/// The approval commands' text output: a table for lists, a block per approval for `show` and decisions.
enum ApprovalText {
    static func table(_ approvals: [ApprovalRecord], status: String) -> String {
        guard !approvals.isEmpty else {
            return status == "all" ? "no approvals you may see" : "no \(status) approvals you may see"
        }
        return TextTable.render(
            header: ["ID", "STATUS", "FLOW", "STEP", "APPROVALS", "REQUESTED", "SUMMARY"],
            rows: approvals.map { approval in
                [
                    approval.id, approval.status.rawValue, "\(approval.flow) v\(approval.version)",
                    approval.step,
                    "\(approval.approvalCount)/\(approval.requiredApprovals)",
                    approval.requestedAt.formatted(.iso8601),
                    oneLine(approval.summary ?? "-", limit: 60),
                ]
            })
    }

    static func details(_ approval: ApprovalRecord, runStatus: String? = nil) -> String {
        var lines = [
            "approval:  \(approval.id)",
            "status:    \(approval.status.rawValue)" + closed(approval),
            "run:       \(approval.runID)" + (runStatus.map { " (\($0))" } ?? ""),
            "flow:      \(approval.flow) v\(approval.version), step \(approval.step), attempt \(approval.attempt)",
            "requested: \(approval.requestedAt.formatted(.iso8601))"
                + (approval.requester.map { " by \($0)" } ?? ""),
        ]
        if let timeoutAt = approval.timeoutAt { lines.append("timeout:   \(timeoutAt.formatted(.iso8601))") }
        lines.append(
            "approvers: \(approval.approvers.joined(separator: ", ")) (\(approval.approvalCount) of "
                + "\(approval.requiredApprovals) approval\(approval.requiredApprovals == 1 ? "" : "s") needed; "
                + "the requester \(approval.allowSelfApproval ? "may" : "may not") approve)")
        if let step = approval.requestChangesStep {
            lines.append("changes:   request-changes sends the note back to step \(step)")
        }
        if let summary = approval.summary, !summary.isEmpty {
            lines.append("")
            lines.append("summary:")
            lines += summary.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        }
        lines.append("")
        lines.append("bound (approve with --digest to approve exactly these):")
        if approval.digests.isEmpty { lines.append("  (nothing bound)") }
        for (index, digest) in approval.digests.enumerated() {
            let value = approval.bound.indices.contains(index) ? preview(approval.bound[index]) : ""
            lines.append("  \(digest)  \(value)")
        }
        lines.append("")
        lines.append("decisions:")
        if approval.decisions.isEmpty { lines.append("  (none yet)") }
        for decision in approval.decisions {
            var line =
                "  \(decision.decidedAt.formatted(.iso8601))  \(decision.approver)  \(decision.decision.rawValue)"
            if let note = decision.note, !note.isEmpty { line += ": " + oneLine(note, limit: 200) }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// " (closed TIME: REASON)" for a closed approval.
    static func closed(_ approval: ApprovalRecord) -> String {
        guard let closedAt = approval.closedAt else { return "" }
        return " (closed \(closedAt.formatted(.iso8601))" + (approval.closedReason.map { ": " + $0 } ?? "")
            + ")"
    }

    /// A bound value in a few words: resource references and short strings as they are, the rest shortened.
    static func preview(_ value: JSONValue) -> String {
        if case .string(let text) = value { return oneLine(text, limit: 60) }
        return oneLine(value.jsonString(), limit: 60)
    }

    static func oneLine(_ text: String, limit: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ⏎ ")
        return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
    }
}
