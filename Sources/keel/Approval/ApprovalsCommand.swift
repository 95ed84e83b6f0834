import ArgumentParser

/// `keel approvals list|show`: approvals the token may see, from the approval-service.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List and inspect approvals through the approval-service (needs an API token).",
        discussion: """
            Talks HTTP to the approval-service (KEEL_APPROVAL_SERVICE_URL or --url) with the API token in \
            KEEL_API_TOKEN (or --token). Approvers see the approvals they are listed for, by name or \
            group; operators and admins see all. Decide with keel approve, keel reject and \
            keel request-changes.
            """,
        subcommands: [ApprovalsList.self, ApprovalsShow.self])
}
