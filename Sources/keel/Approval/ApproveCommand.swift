import ArgumentParser

/// `keel approve ID [--note N] [--digest D]...`: approves an approval the token is listed for.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve an approval you are listed for.",
        discussion: """
            Recorded once under the token's name, with the note and the digests of the bound content. With \
            --digest (repeatable, as keel approvals show prints them) the approval is refused (exit 1, 409) \
            if what is bound changed since you looked. Exit 1 also when you are not an approver (403), \
            the run is your own (403), the approval is already decided, timed out or void (409), or you \
            already decided it (409).
            """)

    @Argument(help: "The approval's id.") var id: String
    @Option(help: "Why, recorded with the decision.") var note: String?
    @Option(
        name: .customLong("digest"),
        help: "A bound digest you reviewed (sha256 hex); repeat for each. Refused if the approval's differ.")
    var digests: [String] = []
    @OptionGroup var service: ApprovalServiceOptions

    func run() async throws {
        try await DecisionSubmission.submit(
            "approve", approval: id, note: note, digests: digests.isEmpty ? nil : digests, service: service)
    }
}
