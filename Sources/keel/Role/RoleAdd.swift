import ArgumentParser
import Foundation
import KeelCore
import KeelStore
import PGClient

/// `keel role add LOGIN --role ROLE`: a login for one service or operator; also rotates its password.
struct RoleAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a login in one of Keel's roles (or set a new password for it) and print its URL.",
        discussion: """
            The password is read from --password-file (for deployment tools that hold it), or generated \
            and printed once, inside the database URL, on standard output. It is sent to PostgreSQL only \
            as a SCRAM-SHA-256 verifier. On an existing login this sets the new password and keeps its \
            sessions, which is how a password is rotated.
            """)

    @Argument(help: "The login's name: lowercase letters, digits and underscores.") var login: String
    @Option(
        help: "The role it is a member of: \(DatabaseRole.allCases.map(\.rawValue).joined(separator: ", ")).")
    var role: String
    @Option(help: "A file holding the password (one line); default: generate one.")
    var passwordFile: String?
    @OptionGroup var database: DatabaseOptions

    struct Added: Encodable {
        var login: String
        var role: String
        /// Only when the password was generated.
        var url: String?
    }

    func run() async throws {
        let output = database.output
        guard let role = DatabaseRole(rawValue: role) else {
            throw output.fail(
                .user(
                    "--role \(role): expected one of \(DatabaseRole.allCases.map(\.rawValue).joined(separator: ", "))"
                ))
        }
        let credential = try CredentialPassword.resolve(file: passwordFile, output: output)
        let (password, generated) = (credential.value, credential.generated)
        let url = database.resolvedURL
        try await database.withPool { pool in
            try await pool.withConnection {
                try await DatabaseRoles.addLogin(login, to: role, password: password, on: $0)
            }
        }
        var loginURL: String?
        if generated, var components = URLComponents(string: url) {
            components.user = login
            components.password = password
            loginURL = components.string
        }
        output.emit(Added(login: login, role: role.name, url: loginURL)) {
            loginURL.map { "\($0)\n(shown only once)" } ?? "login \(login) is in \(role.name)"
        }
    }
}
