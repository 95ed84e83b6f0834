import Foundation
import KeelStore
import KeelTestSupport
import Logging
import PGClient

/// A PostgreSQL login per service in Keel's least-privilege roles, so the end-to-end tests run every
/// service as it should be deployed: a grant missing from `DatabasePrivileges` fails them.
///
/// Logins belong to the whole server and every test database grants the same roles, so the logins are
/// created once per test process (and password-reset when they exist from an earlier run).
enum ServiceLogins {
    static let password = "keel-e2e"

    static func login(for role: DatabaseRole) -> String {
        "keel_e2e_" + role.rawValue.replacingOccurrences(of: "-", with: "_")
    }

    /// `url` (a test database's) with the login of `role` in place of the owner.
    static func url(_ url: String, as role: DatabaseRole) async throws -> String {
        try await created.value
        guard var components = URLComponents(string: url) else { return url }
        components.user = login(for: role)
        components.password = password
        return components.string ?? url
    }

    private static let created = Task {
        let adminURL = try TestEnvironment.require("KEEL_DATABASE_URL")
        let pool = PGPool(
            configuration: try PGConfiguration(url: adminURL), size: 1, logger: Logger(label: "test"))
        do {
            try await pool.withConnection { connection in
                // The roles themselves come from `keel migrate`; a fresh server may not have run it yet.
                try await DatabaseRoles.createRoles(on: connection)
                for role in DatabaseRole.services {
                    try await DatabaseRoles.addLogin(
                        login(for: role), to: role, password: password, on: connection)
                }
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }
}
