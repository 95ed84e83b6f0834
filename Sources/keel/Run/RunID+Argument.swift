import KeelCore
import KeelStore

extension RunID {
    /// The run a command-line argument names. Text that is not a run id names no run, and says so as an
    /// id that no run has does (`no run with id '…'`, exit 1), rather than as a usage error.
    static func named(_ text: String) throws -> RunID {
        guard let id = RunID(text) else { throw RunStoreError.unknownRun(text) }
        return id
    }
}
