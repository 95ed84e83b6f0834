import Foundation
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// Least privilege, attacked: each of Keel's roles is refused what it must not do, with SQLSTATE 42501,
/// on a database `DatabaseRoles.grant` prepared exactly as `keel migrate` does.
@Suite("Database roles")
struct DatabaseRolesTests {
    static let password = "roles-test"

    /// A statement `role` must be refused, and why that matters.
    struct Refusal: CustomTestStringConvertible, Sendable {
        var role: DatabaseRole
        var sql: String
        var testDescription: String { "\(role.rawValue): \(sql)" }
    }

    static let refusals: [Refusal] = [
        // trigger-intake cannot decide approvals or record step results.
        Refusal(
            role: .triggerIntake,
            sql: "INSERT INTO approval_decisions SELECT * FROM approval_decisions WHERE false"),
        Refusal(role: .triggerIntake, sql: "UPDATE step_attempts SET outputs = NULL WHERE false"),
        Refusal(role: .triggerIntake, sql: "UPDATE approvals SET approvers = approvers WHERE false"),
        Refusal(role: .triggerIntake, sql: "SELECT * FROM api_tokens"),
        // The approval-service cannot write step results or create runs (it publishes triggers), push
        // flow versions, trust publishers, rewrite a token's secret or erase what was done.
        Refusal(role: .approvalService, sql: "UPDATE step_attempts SET outputs = NULL WHERE false"),
        Refusal(role: .approvalService, sql: "INSERT INTO runs SELECT * FROM runs WHERE false"),
        Refusal(
            role: .approvalService, sql: "INSERT INTO flow_versions SELECT * FROM flow_versions WHERE false"),
        Refusal(role: .approvalService, sql: "UPDATE flows SET description = description WHERE false"),
        Refusal(
            role: .approvalService,
            sql: "INSERT INTO amqp_publishers SELECT * FROM amqp_publishers WHERE false"),
        Refusal(role: .approvalService, sql: "UPDATE api_tokens SET secret_hash = secret_hash WHERE false"),
        Refusal(role: .approvalService, sql: "DELETE FROM api_actions"),
        // The callback-gateway cannot release flows, decide approvals or write step results.
        Refusal(
            role: .callbackGateway,
            sql: "INSERT INTO flow_releases (flow, to_version, kind, actor) VALUES ('f', 1, 'release', 'x')"),
        Refusal(role: .callbackGateway, sql: "UPDATE flows SET name = name WHERE false"),
        Refusal(
            role: .callbackGateway,
            sql: "INSERT INTO approval_decisions SELECT * FROM approval_decisions WHERE false"),
        Refusal(role: .callbackGateway, sql: "UPDATE step_attempts SET outputs = NULL WHERE false"),
        // The step-executor cannot decide approvals, release flows or touch tokens and publishers.
        Refusal(
            role: .stepExecutor,
            sql: "INSERT INTO approval_decisions SELECT * FROM approval_decisions WHERE false"),
        Refusal(
            role: .stepExecutor,
            sql: "INSERT INTO flow_releases (flow, to_version, kind, actor) VALUES ('f', 1, 'release', 'x')"),
        Refusal(role: .stepExecutor, sql: "SELECT * FROM api_tokens"),
        Refusal(
            role: .stepExecutor, sql: "INSERT INTO amqp_publishers SELECT * FROM amqp_publishers WHERE false"),
        Refusal(role: .stepExecutor, sql: "DELETE FROM run_history"),
        // Webhook deliveries are the approval-service's alone; their attempts are append-only even for it.
        Refusal(role: .triggerIntake, sql: "SELECT * FROM webhook_deliveries"),
        Refusal(role: .stepExecutor, sql: "SELECT * FROM webhook_attempts"),
        Refusal(
            role: .callbackGateway,
            sql: "INSERT INTO webhook_deliveries SELECT * FROM webhook_deliveries WHERE false"),
        Refusal(role: .approvalService, sql: "DELETE FROM webhook_attempts WHERE false"),
        // Readers read; operators act on runs; neither touches flows or tokens.
        Refusal(role: .reader, sql: "INSERT INTO run_history SELECT * FROM run_history WHERE false"),
        Refusal(role: .reader, sql: "UPDATE runs SET status = status WHERE false"),
        Refusal(role: .reader, sql: "SELECT * FROM api_tokens"),
        Refusal(
            role: .operator,
            sql: "INSERT INTO flow_releases (flow, to_version, kind, actor) VALUES ('f', 1, 'release', 'x')"),
        Refusal(role: .operator, sql: "SELECT * FROM api_tokens"),
        Refusal(role: .operator, sql: "UPDATE step_attempts SET outputs = NULL WHERE false"),
        // Administrators change rows, never the schema: that stays with the role that migrates.
        Refusal(role: .admin, sql: "DROP TABLE run_history"),
        Refusal(role: .admin, sql: "CREATE TABLE keel_extra (id int)"),
        Refusal(role: .admin, sql: "ALTER TABLE runs ADD COLUMN extra int"),
    ]

    /// All refusals on one database (a database each would hold a connection slot each at once).
    @Test("each role is refused what it must not do")
    func refused() async throws {
        try await withGrantedDatabase { database in
            for refusal in Self.refusals {
                try await database.asLogin(of: refusal.role) { connection in
                    let error = await #expect(throws: PGError.self, "\(refusal.testDescription)") {
                        try await connection.execute("\(unescaped: refusal.sql)")
                    }
                    #expect(
                        error?.sqlState == "42501", "\(refusal.testDescription): \(String(describing: error))"
                    )
                }
            }
        }
    }

    @Test("each service may do the work that is its alone")
    func allowed() async throws {
        let allowed: [(DatabaseRole, String)] = [
            (.triggerIntake, "INSERT INTO runs SELECT * FROM runs WHERE false"),
            (.triggerIntake, "SELECT count(*) FROM amqp_publishers"),
            // The operators' API: admins release flows and make tokens through it; it records actions.
            (
                .approvalService,
                "INSERT INTO flow_releases (flow, to_version, kind, actor) SELECT flow, to_version, kind, actor FROM flow_releases WHERE false"
            ),
            (.approvalService, "INSERT INTO api_tokens SELECT * FROM api_tokens WHERE false"),
            (
                .approvalService,
                "INSERT INTO api_actions (principal, token_id, role, action, target, outcome) SELECT 'a', 'b', 'c', 'd', 'e', 'done' WHERE false"
            ),
            (.stepExecutor, "UPDATE step_attempts SET outputs = NULL WHERE false"),
            (.stepExecutor, "INSERT INTO resources SELECT * FROM resources WHERE false"),
            (.approvalService, "INSERT INTO approval_decisions SELECT * FROM approval_decisions WHERE false"),
            (.approvalService, "UPDATE api_tokens SET last_used_at = now() WHERE false"),
            (.approvalService, "INSERT INTO webhook_deliveries SELECT * FROM webhook_deliveries WHERE false"),
            (.approvalService, "UPDATE webhook_deliveries SET status = status WHERE false"),
            (.approvalService, "INSERT INTO webhook_attempts SELECT * FROM webhook_attempts WHERE false"),
            (
                .callbackGateway,
                "INSERT INTO callbacks (wait_id, status) SELECT wait_id, status FROM callbacks WHERE false"
            ),
            (.reader, "SELECT count(*) FROM run_history"),
            (.operator, "INSERT INTO run_history SELECT * FROM run_history WHERE false"),
            (
                .admin,
                "INSERT INTO flow_releases (flow, to_version, kind, actor) SELECT flow, to_version, kind, actor FROM flow_releases WHERE false"
            ),
            (.admin, "SELECT count(*) FROM api_tokens"),
        ]
        try await withGrantedDatabase { database in
            for (role, sql) in allowed {
                try await database.asLogin(of: role) { connection in
                    try await connection.execute("\(unescaped: sql)")
                }
            }
        }
    }

    @Test("every table of the schema is named in the privileges, so none is forgotten")
    func everyTableNamed() async throws {
        try await withGrantedDatabase { database in
            let pool = try database.database.pool(size: 1)
            let tables = try await pool.withConnection { connection in
                try await connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    .map { try $0.decode((String).self) }
            }
            await pool.close()
            #expect(Set(tables) == Set(DatabasePrivileges.tables))
        }
    }

    @Test("adding an existing login rotates its password: the old one stops working")
    func rotation() async throws {
        try await withGrantedDatabase { database in
            let pool = try database.database.pool(size: 1)
            let login = "keel_rotation_\(UUID().uuidString.prefix(8).lowercased())"
            do {
                try await pool.withConnection {
                    try await DatabaseRoles.addLogin(login, to: .reader, password: "first", on: $0)
                }
                try await database.connect(login, password: "first") { _ in }
                try await pool.withConnection {
                    try await DatabaseRoles.addLogin(login, to: .reader, password: "second", on: $0)
                }
                let error = await #expect(throws: PGError.self) {
                    try await database.connect(login, password: "first") { _ in }
                }
                #expect(error?.code == .connectionFailed)
                try await database.connect(login, password: "second") { connection in
                    try await connection.execute("SELECT count(*) FROM runs")
                }
                let listed = try await pool.withConnection { try await DatabaseRoles.logins(on: $0) }
                #expect(listed.contains { $0.login == login && $0.role == .reader })
                try await pool.withConnection { try await DatabaseRoles.removeLogin(login, on: $0) }
            } catch {
                _ = try? await pool.withConnection { try await DatabaseRoles.removeLogin(login, on: $0) }
                await pool.close()
                throw error
            }
            await pool.close()
        }
    }

    @Test(
        "a login name that is not a plain identifier, or names a Keel role or the owner, is refused",
        arguments: [
            "", "Robert", "x'; DROP TABLE runs; --", "pg_monitor", "keel_admin", "1abc",
            String(repeating: "a", count: 64),
        ])
    func hostileLoginNames(_ name: String) async throws {
        try await withGrantedDatabase { database in
            let pool = try database.database.pool(size: 1)
            await #expect(throws: (any Error).self) {
                try await pool.withConnection {
                    try await DatabaseRoles.addLogin(name, to: .admin, password: "x", on: $0)
                }
            }
            await #expect(throws: (any Error).self) {
                try await pool.withConnection {
                    try await DatabaseRoles.removeLogin(name.isEmpty ? "keel" : name, on: $0)
                }
            }
            await pool.close()
        }
    }
}

/// A migrated database with Keel's grants, and a login of each role on it.
struct GrantedDatabase {
    let database: TestDatabase

    /// Runs `body` on a connection as the test login of `role`.
    func asLogin(of role: DatabaseRole, _ body: (PGConnection) async throws -> Void) async throws {
        try await connect(RoleLogins.login(for: role), password: DatabaseRolesTests.password, body)
    }

    func connect(_ login: String, password: String, _ body: (PGConnection) async throws -> Void) async throws
    {
        guard var components = URLComponents(string: database.url) else { return }
        components.user = login
        components.password = password
        let connection = try await PGConnection.connect(
            try PGConfiguration(url: components.string ?? database.url), logger: Logger(label: "test"))
        do {
            try await body(connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}

/// One login per role, shared by the tests of this process (logins belong to the whole server).
enum RoleLogins {
    static func login(for role: DatabaseRole) -> String {
        "keel_roles_test_" + role.rawValue.replacingOccurrences(of: "-", with: "_")
    }

    static let created = Task {
        let adminURL = try TestEnvironment.require("KEEL_DATABASE_URL")
        let pool = PGPool(
            configuration: try PGConfiguration(url: adminURL), size: 1, logger: Logger(label: "test"))
        do {
            try await pool.withConnection { connection in
                try await DatabaseRoles.createRoles(on: connection)
                for role in DatabaseRole.allCases {
                    try await DatabaseRoles.addLogin(
                        login(for: role), to: role, password: DatabaseRolesTests.password, on: connection)
                }
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }
}

func withGrantedDatabase(_ body: (GrantedDatabase) async throws -> Void) async throws {
    try await RoleLogins.created.value
    let database = try await TestDatabase.create()
    do {
        let pool = try database.pool(size: 1)
        do {
            try await Migrator.bundled().migrate(pool: pool, logger: Logger(label: "test"))
            try await pool.withConnection { try await DatabaseRoles.grant(on: $0) }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        try await body(GrantedDatabase(database: database))
    } catch {
        try await database.drop()
        throw error
    }
    try await database.drop()
}
