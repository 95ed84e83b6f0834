import Configuration
import KeelService
import KeelStore

/// The step-executor's own settings (docs/configuration.md), read at start through the service's reader;
/// one that cannot be used stops the service with exit status 2 before it consumes anything.
struct StepExecutorSettings: Sendable {
    /// Where resources' contents live (`KEEL_RESOURCE_*`).
    var resources: ResourceConfiguration
    /// The hosts `ssh` steps may name (`KEEL_SSH_HOSTS`).
    var sshHosts: SSHHosts
    /// Callback keys and the gateway's URL; nil when none is set (steps that wait are then refused).
    var callbacks: CallbackSettings?
    /// Whose identity `run` steps get (`KEEL_STEP_ISOLATION`, `KEEL_STEP_UID_RANGE`).
    var isolation: StepIsolation
    /// `PATH` and working directory for `run` steps (`KEEL_RUN_PATH`, `KEEL_RUN_WORKING_DIR`).
    var runDefaults: RunDefaults
    /// How many steps of one run an executor runs in place, one after another, before handing the run
    /// back to the queue (`KEEL_STEP_IN_PLACE_LIMIT`, default 32; 0: every step through the broker).
    var inPlaceLimit: Int
    /// Fault injection for the crash tests: exit right after the n-th claim (`KEEL_FAULT_EXIT_AFTER_CLAIM`).
    var exitAfterClaim: Int?

    init(reader: ConfigReader) throws {
        resources = try ResourceConfiguration(reader: reader)
        sshHosts = try SSHHosts(reader: reader)
        callbacks = try CallbackSettings.from(reader: reader)
        isolation = try StepIsolation(reader: reader)
        runDefaults = RunDefaults(reader: reader)
        inPlaceLimit = try Self.count(reader, "KEEL_STEP_IN_PLACE_LIMIT", atLeast: 0) ?? 32
        exitAfterClaim = try Self.count(reader, "KEEL_FAULT_EXIT_AFTER_CLAIM", atLeast: 1)
    }

    /// A whole number of at least `minimum`, or nil when the setting is not given.
    private static func count(_ reader: ConfigReader, _ name: String, atLeast minimum: Int)
        throws(ConfigurationError)
        -> Int?
    {
        guard let text = reader.string(environmentName: name), !text.isEmpty else { return nil }
        guard let value = Int(text), value >= minimum else {
            throw ConfigurationError(
                setting: name, value: text, expected: "a whole number of at least \(minimum)")
        }
        return value
    }
}

extension StepIsolationError: ConfigurationProblem {}
extension SSHHostsError: ConfigurationProblem {}
extension CallbackSettingsError: ConfigurationProblem {}
