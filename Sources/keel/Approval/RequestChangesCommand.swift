import ArgumentParser

/// `keel request-changes ID --note N`: sends the note back to the gate's `request_changes` step.
struct RequestChangesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request-changes",
        abstract: "Request changes: the note goes back to the step the gate names, which runs again.",
        discussion: """
            The note (required) becomes structured input of the gate's request_changes step, and the \
            chain from there runs again before the gate asks anew. Exit 1 when the gate has no \
            request_changes rule (422), you are not an approver (403), or the approval is closed (409).
            """)

    @Argument(help: "The approval's id.") var id: String
    @Option(help: "What to change; sent to the step that makes the change.") var note: String
    @OptionGroup var service: ApprovalServiceOptions

    func run() async throws {
        try DecisionSubmission.requireNote(note, service: service, why: "say what should change")
        try await DecisionSubmission.submit(
            "request_changes", approval: id, note: note, digests: nil, service: service)
    }
}
