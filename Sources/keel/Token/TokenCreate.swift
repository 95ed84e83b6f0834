import ArgumentParser
import Foundation
import KeelStore

/// `keel token create --name N --role R [--group G]...`: issues a token and prints it, the only time it
/// is ever shown.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API token and print it once.",
        discussion: """
            Prints the token alone on standard output (so `TOKEN=$(keel token create ...)` works) and a \
            reminder on standard error that it is shown only once; Keel stores only the SHA-256 of its \
            secret. Roles: approver (decides approvals it is listed for, by name or group), operator \
            (also cancels and retries runs), admin (also manages tokens). Decisions are recorded under \
            the token's name. Exit 1 when a token of that name exists (revoked ones included). With an \
            API token (KEEL_API_TOKEN or --api-token) the token commands go through the operators' API \
            as its holder, who must be an admin.
            """)

    @Option(help: "Who holds the token; decisions are recorded under this name (an approver name in flows).")
    var name: String
    @Option(help: "approver, operator or admin.") var role: String
    @Option(
        name: .customLong("group"),
        help: "An approver group the holder belongs to (`group:NAME` in a flow's approvers); repeatable.")
    var groups: [String] = []
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    /// The `--json` document: the only output that carries the secret.
    struct Created: Encodable {
        var token: String
        var record: APITokenRecord
        var note = "shown only once: Keel stores only a hash of it"

        enum CodingKeys: String, CodingKey {
            case token, note
            case id, name, role, groups, createdBy, createdAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(token, forKey: .token)
            try container.encode(note, forKey: .note)
            try container.encode(record.id, forKey: .id)
            try container.encode(record.name, forKey: .name)
            try container.encode(record.role, forKey: .role)
            try container.encode(record.groups, forKey: .groups)
            try container.encode(record.createdBy, forKey: .createdBy)
            try container.encode(record.createdAt, forKey: .createdAt)
        }
    }

    func run() async throws {
        let output = database.output
        guard PrincipalName.isValid(name) else {
            throw output.fail(
                .user(
                    "--name \(name): expected letters, digits and . _ @ - (starting with a letter or digit), at most 128"
                ))
        }
        guard let role = APITokenRole(rawValue: role) else {
            let roles = APITokenRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw output.fail(.user("--role \(role): expected one of \(roles)"))
        }
        // `group:reviewers` as written in a flow is accepted for `reviewers`.
        let groups = groups.map { $0.hasPrefix("group:") ? String($0.dropFirst("group:".count)) : $0 }
        if let bad = groups.first(where: { !PrincipalName.isValid($0) }) {
            throw output.fail(
                .user(
                    "--group \(bad): expected letters, digits and . _ @ - (starting with a letter or digit), at most 128"
                ))
        }
        let issued: IssuedAPIToken
        if let connection = try output.failing({ try api.connection() }) {
            // Through the API the token's holder (an admin) is recorded as its creator.
            let made = try await output.failing {
                try await connection.call { client in
                    try await client.createToken(
                        body: .json(
                            .init(
                                name: name, role: .init(rawValue: role.rawValue) ?? .approver,
                                groups: Array(Set(groups))))
                    ).created.body.json
                }
            }
            issued = IssuedAPIToken(record: TokenRecord.from(made.record), token: made.token)
        } else {
            let createdBy = CLISettings().value("USER", flag: nil, default: "cli")
            issued = try await database.withPool {
                try await APITokenStore(pool: $0).create(
                    name: name, role: role, groups: Array(Set(groups)), createdBy: createdBy)
            }
        }
        if database.json {
            output.emit(Created(token: issued.token, record: issued.record)) { "" }
        } else {
            // Unbuffered, so the token comes before the reminder whatever both streams are attached to.
            FileHandle.standardOutput.write(Data((issued.token + "\n").utf8))
            let groupText =
                issued.record.groups.isEmpty ? "" : ", groups \(issued.record.groups.joined(separator: ", "))"
            FileHandle.standardError.write(
                Data(
                    ("keel: token '\(issued.record.name)' (\(issued.record.role.rawValue)\(groupText)) created; "
                        + "it is shown only once, store it now\n").utf8))
        }
    }
}
