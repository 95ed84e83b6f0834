import ArgumentParser
import KeelStore

/// `keel role remove LOGIN`: drops a login.
struct RoleRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Drop a login (its open sessions end only when they disconnect).")

    @Argument(help: "The login to drop.") var login: String
    @OptionGroup var database: DatabaseOptions

    struct Removed: Encodable {
        var login: String
    }

    func run() async throws {
        try await database.withPool { pool in
            try await pool.withConnection { try await DatabaseRoles.removeLogin(login, on: $0) }
        }
        database.output.emit(Removed(login: login)) { "dropped login \(login)" }
    }
}
