import ArgumentParser
import Foundation

/// `keel approvals list [--status S|all]`: approvals the token may see, newest first.
struct ApprovalsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List approvals you may see, newest first (pending by default).")

    static let statuses = [
        "pending", "approved", "rejected", "changes_requested", "timed_out", "cancelled", "void", "all",
    ]

    @Option(help: "pending, approved, rejected, changes_requested, timed_out, cancelled, void or all.")
    var status = "pending"
    @OptionGroup var service: ApprovalServiceOptions

    func run() async throws {
        guard Self.statuses.contains(status) else {
            throw service.output.fail(
                .user("--status \(status): expected one of \(Self.statuses.joined(separator: ", "))"))
        }
        let body = try await service.withClient { try await $0.list(status: status) }
        try service.emit(body, as: ApprovalListDocument.self) {
            ApprovalText.table($0.approvals, status: status)
        }
    }
}
