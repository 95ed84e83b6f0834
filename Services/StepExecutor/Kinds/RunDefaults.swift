import KeelService
import Configuration
/// What a `run` step gets when its action does not say: the host's `PATH` for its programs and the
/// directory it runs in (where the agent's checkout lives on this executor). Set by the operator with
/// `KEEL_RUN_PATH` and `KEEL_RUN_WORKING_DIR`; without the latter each attempt runs in a fresh private
/// directory of its own.
struct RunDefaults: Sendable, Hashable {
    static let standardPath = "/usr/local/bin:/usr/bin:/bin"

    var path: String = RunDefaults.standardPath
    var workingDirectory: String? = nil

    init(path: String = RunDefaults.standardPath, workingDirectory: String? = nil) {
        self.path = path
        self.workingDirectory = workingDirectory
    }

    init(reader: ConfigReader) {
        path =
            reader.string(environmentName: "KEEL_RUN_PATH").flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.standardPath
        workingDirectory = reader.string(environmentName: "KEEL_RUN_WORKING_DIR").flatMap {
            $0.isEmpty ? nil : $0
        }
    }
}
