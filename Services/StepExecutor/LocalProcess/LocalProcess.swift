#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Synchronization

/// What a `run` step starts: a program with its arguments, environment, directory and standard input.
struct LocalProcessSpec: Sendable {
    /// `argv[0]` is looked up in `PATH` when it has no slash.
    var arguments: [String]
    /// The whole environment of the process: nothing of the executor's own (its database URL...) leaks in.
    var environment: [String: String]
    var workingDirectory: String?
    var standardInput: [UInt8] = []
    /// The unprivileged user the process runs as (through `setpriv`); nil runs it as the executor's user.
    var user: StepUser? = nil
    /// The `setpriv` program that switches to `user`.
    var setpriv: String = StepUser.standardSetpriv
    /// When it passes, the process group gets SIGTERM, then SIGKILL after `killGrace`.
    var timeout: Duration?
    var killGrace: Duration = .seconds(2)
}

/// A chunk of output, in the order it was read.
enum LocalProcessOutput: Sendable, Hashable {
    case standardOutput([UInt8])
    case standardError([UInt8])
}

/// How the process ended.
struct LocalProcessResult: Sendable, Hashable {
    /// The exit status when it exited normally.
    var exitCode: Int32?
    /// The signal that ended it otherwise.
    var signal: Int32?
    var timedOut: Bool
    var cancelled: Bool
}

/// Why a process could not be started.
struct LocalProcessError: Error, CustomStringConvertible, Hashable {
    var description: String
}

/// Runs one local process in a process group of its own, on a dedicated thread: the blocking `poll`,
/// `read` and `waitpid` calls never run on Swift's cooperative pool.
///
/// The process's whole group is stopped when it times out, when the calling task is cancelled, and
/// once the main process has exited (so nothing a step started outlives it). The process gets only
/// descriptors 0, 1 and 2: every other descriptor of the executor (database and broker sockets, lock
/// files) is closed in the child before the program runs, whether or not it was close-on-exec.
enum LocalProcess {
    static func run(
        _ spec: LocalProcessSpec, onOutput: @escaping @Sendable (LocalProcessOutput) -> Void
    ) async throws -> LocalProcessResult {
        guard !spec.arguments.isEmpty else { throw LocalProcessError(description: "expected a command") }
        if let directory = spec.workingDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw LocalProcessError(description: "working directory \(directory) does not exist")
            }
        }
        let cancelled = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    continuation.resume(
                        with: Result {
                            try Supervisor(spec: spec, cancelled: cancelled, onOutput: onOutput).run()
                        })
                }
                thread.name = "keel.local-process"
                thread.start()
            }
        } onCancel: {
            cancelled.set()
        }
    }
}

final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
