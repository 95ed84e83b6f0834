import ArgumentParser
import Foundation

/// `keel approvals show ID`: one approval with its summary, approvers, decisions and bound digests.
struct ApprovalsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one approval: summary, approvers, decisions and the digests of what is bound.",
        discussion: """
            With --json, the API's document: {"approval": {...}, "timeline": {...the run show document...}}. \
            Exit 1 when the approval is unknown or not visible to the token.
            """)

    @Argument(help: "The approval's id (<run>:<step>:<attempt>:approval, as keel approvals list prints).")
    var id: String
    @OptionGroup var service: ApprovalServiceOptions

    func run() async throws {
        let body = try await service.withClient { try await $0.show(id) }
        try service.emit(body, as: ApprovalShowDocument.self) { document in
            ApprovalText.details(document.approval, runStatus: document.runStatus)
                + "\n\nthe run's timeline: keel run show \(document.approval.runID)"
        }
    }
}
