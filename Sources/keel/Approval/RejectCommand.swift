import ArgumentParser

/// `keel reject ID --note N`: rejects an approval; the run takes its failure path.
struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject an approval you are listed for; the gate fails.",
        discussion: """
            Recorded once under the token's name with the note (required: say why). Exit 1 when you \
            are not an approver (403) or the approval is closed or already decided by you (409).
            """)

    @Argument(help: "The approval's id.") var id: String
    @Option(help: "Why it is rejected, recorded with the decision.") var note: String
    @OptionGroup var service: ApprovalServiceOptions

    func run() async throws {
        try DecisionSubmission.requireNote(note, service: service, why: "say why it is rejected")
        try await DecisionSubmission.submit(
            "reject", approval: id, note: note, digests: nil, service: service)
    }
}
