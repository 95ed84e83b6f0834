/// The PostgreSQL roles Keel's services and operators connect through, each holding only the grants its
/// work needs (`DatabasePrivileges`). They are group roles (`NOLOGIN`): a deployment gives each service a
/// login of its own that is a member of one of them (`keel role add`), so a password can be rotated or a
/// replica's access revoked without touching the grants.
public enum DatabaseRole: String, CaseIterable, Sendable {
    case triggerIntake = "trigger-intake"
    case stepExecutor = "step-executor"
    case approvalService = "approval-service"
    case callbackGateway = "callback-gateway"
    /// `keel run list|show`, `keel stats`, `keel flow show`: reads everything but API tokens.
    case reader
    /// The reader's rights and an operator's actions on runs (cancel, retry).
    case `operator`
    /// Every row of every table (releases, tokens, publishers), and no schema changes: those stay with
    /// the role that runs `keel migrate`.
    case admin

    /// The role's name in PostgreSQL, e.g. `keel_step_executor`.
    public var name: String {
        "keel_" + rawValue.replacingOccurrences(of: "-", with: "_")
    }

    /// The four services, in the order they are usually deployed.
    public static let services: [DatabaseRole] = [
        .triggerIntake, .stepExecutor, .approvalService, .callbackGateway,
    ]
}
