#if canImport(Glibc)
    import Glibc
#endif
import KeelStore

/// Finds out, before anything is started, whether a step's program exists: a missing program is the
/// step's mistake (`permanent`), not a failed run (with a `working_dir` the start goes through a
/// shell, which would only report exit status 127).
enum ProgramLookup {
    /// Whether `program` can be started: found in `searchPath` when it has no slash, else executable
    /// at that path (relative paths against `workingDirectory`).
    static func canExecute(_ program: String, searchPath: String, workingDirectory: String?) async -> Bool {
        (try? await BlockingIO.run {
            if program.contains("/") {
                let absolute =
                    program.hasPrefix("/") || workingDirectory == nil
                    ? program : "\(workingDirectory ?? "")/\(program)"
                return access(absolute, X_OK) == 0
            }
            return searchPath.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
        }) ?? false
    }
}
