import ArgumentParser
import Foundation
import KeelStore

/// `keel token list`: every token, newest first, without secrets.
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List API tokens, newest first (never their secrets).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    func run() async throws {
        let tokens: [APITokenRecord]
        if let connection = try database.output.failing({ try api.connection() }) {
            tokens = try await database.output.failing {
                try await connection.call { client in
                    try await client.listTokens().ok.body.json.tokens.map(TokenRecord.from)
                }
            }
        } else {
            tokens = try await database.withPool { try await APITokenStore(pool: $0).list() }
        }
        database.output.emit(tokens) {
            guard !tokens.isEmpty else {
                return "no tokens yet; create one with keel token create --name N --role approver"
            }
            return TextTable.render(
                header: ["NAME", "ROLE", "GROUPS", "ID", "CREATED", "LAST USED", "REVOKED"],
                rows: tokens.map { token in
                    [
                        token.name, token.role.rawValue,
                        token.groups.isEmpty ? "-" : token.groups.joined(separator: ","), token.id,
                        token.createdAt.formatted(.iso8601) + " by " + token.createdBy,
                        token.lastUsedAt?.formatted(.iso8601) ?? "-",
                        token.revokedAt?.formatted(.iso8601) ?? "-",
                    ]
                })
        }
    }
}
