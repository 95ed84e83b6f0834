import ArgumentParser

/// `keel token ...`: the bearer API tokens people and automation use with the services' HTTP APIs.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens (approvers, operators, admins).",
        discussion: """
            Works directly on PostgreSQL, like `keel flow`: whoever can reach the database manages \
            tokens. A token is shown once, at creation; only the SHA-256 of its secret is stored.
            """,
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}
