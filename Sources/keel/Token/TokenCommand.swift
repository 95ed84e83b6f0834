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

/// Token names and groups follow the flow language's principal names (`approvers: [ana, "group:NAME"]`),
/// so a token can be listed as an approver: `^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`.
enum PrincipalName {
    static func isValid(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 128, isAlphanumeric(first) else { return false }
        return scalars.dropFirst().allSatisfy { isAlphanumeric($0) || "._@-".unicodeScalars.contains($0) }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
