import ArgumentParser
import Foundation
import KeelStore

/// `keel token revoke NAME`: the token stops working at once; its row stays for the record.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an API token: it is refused from now on.",
        discussion: """
            The token's row stays (decisions made with it keep naming it) and its name stays taken. \
            Exit 1 when there is no live token of that name.
            """)

    @Argument(help: "The token's name.") var name: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    struct Revoked: Encodable {
        var name: String
        var revoked: Bool
    }

    func run() async throws {
        if let connection = try database.output.failing({ try api.connection() }) {
            // A 404 from the API is the same refusal as below, with the API's words.
            _ = try await database.output.failing {
                try await connection.call { client in
                    try await client.revokeToken(path: .init(name: name)).noContent
                }
            }
            database.output.emit(Revoked(name: name, revoked: true)) { "token '\(name)' revoked" }
            return
        }
        let revoked = try await database.withPool { try await APITokenStore(pool: $0).revoke(name: name) }
        guard revoked else {
            throw database.output.fail(
                .user("no live token named '\(name)' (unknown or already revoked); see keel token list"))
        }
        database.output.emit(Revoked(name: name, revoked: true)) { "token '\(name)' revoked" }
    }
}
