import Foundation
import KeelCore
import KeelStore
import Synchronization

/// The changes an agent left in its working copy, as git shows them against `HEAD`: new files included
/// (marked intent-to-add first), in one canonical form whatever the repository's or the user's git
/// settings say, so the same change always gives the same bytes and so the same digest an approval binds.
///
/// git runs as the attempt's user, in the attempt's sandbox, never as the executor: the agent wrote the
/// repository, and a repository's configuration can name programs git runs (`core.fsmonitor`, hooks, external
/// diff drivers). Those are switched off on the command line, which wins over the repository's settings.
struct WorkingCopyDiff {
    /// Settings that make `git diff` canonical and keep the repository from starting programs.
    static let gitOptions = [
        "-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
        "-c", "core.quotePath=true", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
        "-c", "diff.relative=false", "-c", "color.ui=false",
    ]
    /// Nothing of the system's or the user's git configuration.
    static let gitEnvironment = [
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
    ]
    static let diffArguments = [
        "diff", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD", "--",
    ]
    /// Bytes of `git diff --name-only` kept: the list of changed files, not their contents.
    static let maximumFileListSize = 1 << 20
    /// How long each git command may take.
    static let timeout = FlowDuration(milliseconds: 300_000)
    /// Bytes of a git command's error output kept for the message.
    static let maximumErrorSize = 2048

    let executor: RunStepExecutor
    let work: StepWork
    let directory: AttemptDirectory
    let workingCopy: String
    let redactor: SecretRedactor

    /// What `record()` found: the stored diff and the changed paths, or the outcome that ends the attempt.
    enum Recorded {
        case recorded(diff: ResourceRecord, files: [String])
        case failed(StepOutcome)
    }

    /// The diff stored as `<step>.<attempt>.diff` (`text/x-diff`, secrets masked) and the changed paths.
    func record() async -> Recorded {
        let added = await git(["add", "--all", "--intent-to-add", "--", "."])
        guard added.exitCode == 0 else {
            return .failed(
                .failed(
                    .permanent,
                    message: "working_dir \(workingCopy): cannot read the agent's changes with git "
                        + "(is it a git working copy with a commit?): \(added.problem)"))
        }
        let names = await git(Array(Self.diffArguments.dropLast(2)) + ["--name-only", "-z", "HEAD", "--"])
        guard names.exitCode == 0 else {
            return .failed(.failed(.permanent, message: "git diff --name-only: \(names.problem)"))
        }
        let files = names.output.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }

        let captured = CapturedOutput(redactor: redactor)
        let producer = ResourceProducer(runID: work.runID, step: work.step.id, attempt: work.attempt)
        async let stored = executor.store(
            captured, name: "\(work.step.id).\(work.attempt).diff", mediaType: "text/x-diff",
            producer: producer)
        let diffed = await git(Self.diffArguments, into: captured)
        captured.finish()
        let record = await stored
        guard diffed.exitCode == 0 else {
            return .failed(.failed(.permanent, message: "git diff: \(diffed.problem)"))
        }
        switch record {
        case .success(let record): return .recorded(diff: record, files: files)
        case .failure(let error): return .failed(.interrupted(reason: "cannot store the diff: \(error)"))
        }
    }

    /// How one git command ended: its exit status (nil when it did not exit by itself), the start of its
    /// output (when not streamed to `sink`) and its error output's last lines.
    private struct GitResult {
        var exitCode: Int32?
        var output: [UInt8]
        var problem: String
    }

    private func git(_ arguments: [String], into sink: CapturedOutput? = nil) async -> GitResult {
        let action = RenderedRunAction(
            arguments: ["git"] + Self.gitOptions + arguments, environment: Self.gitEnvironment,
            workingDirectory: workingCopy, standardInput: [], timeout: Self.timeout)
        var spec = executor.processSpec(action, work: work, directory: directory)
        spec.environment = Self.gitEnvironment.merging(["PATH": executor.defaults.path]) { _, path in path }
        let output = Mutex<[UInt8]>([])
        let errors = Mutex<[UInt8]>([])
        do {
            let result = try await LocalProcess.run(spec) { chunk in
                switch chunk {
                case .standardOutput(let bytes):
                    if let sink {
                        sink.append(bytes)
                    } else {
                        output.withLock { kept in
                            kept.append(contentsOf: bytes.prefix(Self.maximumFileListSize - kept.count))
                        }
                    }
                case .standardError(let bytes):
                    errors.withLock { kept in
                        kept.append(contentsOf: bytes)
                        if kept.count > Self.maximumErrorSize {
                            kept.removeFirst(kept.count - Self.maximumErrorSize)
                        }
                    }
                }
            }
            let said = redactor.redacting(
                String(decoding: errors.withLock { $0 }, as: UTF8.self)
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let why =
                result.timedOut
                ? "timed out"
                : result.exitCode.map { "exit code \($0)" } ?? "killed by signal \(result.signal ?? 0)"
            return GitResult(
                exitCode: result.cancelled || result.timedOut ? nil : result.exitCode,
                output: output.withLock { $0 }, problem: said.isEmpty ? why : "\(why): \(said)")
        } catch {
            return GitResult(exitCode: nil, output: [], problem: "\(error)")
        }
    }
}
