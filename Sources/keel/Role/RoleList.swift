import ArgumentParser
import KeelStore

/// `keel role list`: the logins in Keel's roles.
struct RoleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the logins that are members of Keel's roles.")

    @OptionGroup var database: DatabaseOptions

    struct Login: Encodable {
        var login: String
        var role: String
    }

    func run() async throws {
        let logins = try await database.withPool { pool in
            try await pool.withConnection { try await DatabaseRoles.logins(on: $0) }
        }.map { Login(login: $0.login, role: $0.role.name) }
        database.output.emit(logins) {
            guard !logins.isEmpty else {
                return "no logins yet; add one with keel role add LOGIN --role ROLE"
            }
            return TextTable.render(header: ["LOGIN", "ROLE"], rows: logins.map { [$0.login, $0.role] })
        }
    }
}
