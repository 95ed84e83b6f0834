/// The four Keel services. Each is its own executable; this names them and fixes their local ports
/// (DESIGN §4), so the stack scripts, the CLI and the tests agree without asking each other.
public enum KeelServiceKind: String, Sendable, CaseIterable {
    case triggerIntake = "trigger-intake"
    case stepExecutor = "step-executor"
    case approvalService = "approval-service"
    case callbackGateway = "callback-gateway"

    /// The port the service listens on when nothing overrides it.
    public var defaultPort: Int {
        switch self {
        case .triggerIntake: 7401
        case .stepExecutor: 7402
        case .approvalService: 7403
        case .callbackGateway: 7404
        }
    }

    /// The name of the `.keel/env` setting that holds the service's base URL, e.g. `KEEL_STEP_EXECUTOR_URL`.
    public var urlSettingName: String {
        "KEEL_" + String(rawValue.uppercased().map { $0 == "-" ? "_" : $0 }) + "_URL"
    }
}
