import ArgumentParser
import KeelStore

/// `keel role ...`: PostgreSQL logins for the services and operators, each a member of one of Keel's
/// least-privilege roles.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role",
        abstract: "Give each service and operator a PostgreSQL login with only the grants it needs.",
        discussion: """
            `keel migrate` creates Keel's roles (keel_trigger_intake, keel_step_executor, \
            keel_approval_service, keel_callback_gateway, keel_reader, keel_operator, keel_admin) and grants \
            each what docs/operations.md lists. They cannot log in: `role add` creates a login that is a \
            member of one. Run it as a role with CREATEROLE (the one that migrates).
            """,
        subcommands: [RoleAdd.self, RoleList.self, RoleRemove.self])
}
