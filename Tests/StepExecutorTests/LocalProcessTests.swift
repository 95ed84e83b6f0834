import Foundation
import Synchronization
import Testing

@testable import step_executor

#if canImport(Glibc)
    import Glibc
#endif

/// Real processes on this machine: arguments, environment, directory, input, output, exit status, and
/// that a timeout or a cancellation leaves nothing of the process group behind.
@Suite struct LocalProcessTests {
    final class Collected: Sendable {
        let chunks = Mutex<[LocalProcessOutput]>([])
        func append(_ output: LocalProcessOutput) { chunks.withLock { $0.append(output) } }
        var standardOutput: String { text { if case .standardOutput(let bytes) = $0 { bytes } else { nil } } }
        var standardError: String { text { if case .standardError(let bytes) = $0 { bytes } else { nil } } }

        private func text(_ select: (LocalProcessOutput) -> [UInt8]?) -> String {
            let bytes: [UInt8] = chunks.withLock { $0.compactMap(select).flatMap { $0 } }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static let baseEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin"]

    func run(_ spec: LocalProcessSpec) async throws -> (LocalProcessResult, Collected) {
        let collected = Collected()
        let result = try await LocalProcess.run(spec) { collected.append($0) }
        return (result, collected)
    }

    @Test func argumentsEnvironmentDirectoryInputAndExitCode() async throws {
        let directory = FileManager.default.temporaryDirectory.path
        let (result, output) = try await run(
            LocalProcessSpec(
                arguments: [
                    "sh", "-c", #"echo "$1 $GREETING $(pwd)"; cat; echo oops >&2; exit 3"#, "sh", "one two",
                ],
                environment: Self.baseEnvironment.merging(["GREETING": "hello"]) { $1 },
                workingDirectory: directory, standardInput: Array("from stdin\n".utf8)))
        #expect(result.exitCode == 3)
        #expect(result.signal == nil && !result.timedOut && !result.cancelled)
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        #expect(output.standardOutput == "one two hello \(resolved)\nfrom stdin\n")
        #expect(output.standardError == "oops\n")
    }

    @Test func theExecutorsOwnEnvironmentDoesNotLeakIn() async throws {
        // A variable only this test sets, standing for the executor's own settings (KEEL_DATABASE_URL...).
        setenv("KEEL_LOCAL_PROCESS_LEAK_PROBE", "secret", 1)
        let (result, output) = try await run(
            LocalProcessSpec(arguments: ["env"], environment: Self.baseEnvironment))
        #expect(result.exitCode == 0)
        #expect(output.standardOutput == "PATH=/usr/local/bin:/usr/bin:/bin\n")
    }

    @Test func largeOutputAndInputStreamWithoutDeadlock() async throws {
        let input = [UInt8](repeating: UInt8(ascii: "x"), count: 3 * 1_048_576)
        let (result, output) = try await run(
            LocalProcessSpec(arguments: ["cat"], environment: Self.baseEnvironment, standardInput: input))
        #expect(result.exitCode == 0)
        #expect(output.standardOutput.utf8.count == input.count)
        #expect(output.chunks.withLock { $0.count } > 1, "output arrives in chunks as it is produced")
    }

    @Test func aTimeoutStopsTheWholeProcessGroup() async throws {
        let marker = "keel-timeout-\(UUID().uuidString)"
        // A duration no other test uses (they run in parallel, some with `sleep 300`), so the check
        // below finds only this test's child.
        let background = "sleep 300.\(Int.random(in: 100_000...999_999))"
        let started = ContinuousClock.now
        let (result, output) = try await run(
            LocalProcessSpec(
                arguments: ["sh", "-c", "\(background) & echo started; sleep 301; echo \(marker)"],
                environment: Self.baseEnvironment, timeout: .milliseconds(500), killGrace: .milliseconds(500))
        )
        #expect(result.timedOut)
        #expect(result.signal == SIGTERM)
        // Only a timeout that failed could take `sleep 301`'s five minutes; the bound leaves a loaded
        // machine plenty of room.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(output.standardOutput == "started\n")
        #expect(try await noProcessMatches(background), "the background child was left running")
    }

    @Test func aProcessIgnoringSIGTERMIsKilled() async throws {
        let (result, _) = try await run(
            LocalProcessSpec(
                arguments: ["sh", "-c", "trap '' TERM; sleep 302"], environment: Self.baseEnvironment,
                timeout: .milliseconds(300), killGrace: .milliseconds(300)))
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
        #expect(try await noProcessMatches("sleep 302"))
    }

    @Test func cancellingTheTaskStopsTheProcess() async throws {
        let task = Task {
            try await run(LocalProcessSpec(arguments: ["sleep", "303"], environment: Self.baseEnvironment))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let (result, _) = try await task.value
        #expect(result.cancelled)
        #expect(try await noProcessMatches("sleep 303"))
    }

    @Test func childrenLeftBehindByAFinishedStepAreStopped() async throws {
        let (result, _) = try await run(
            LocalProcessSpec(
                arguments: ["sh", "-c", "sleep 304 >/dev/null 2>&1 & exit 0"],
                environment: Self.baseEnvironment))
        #expect(result.exitCode == 0)
        #expect(try await noProcessMatches("sleep 304"))
    }

    @Test func unstartableCommandsAreErrors() async throws {
        await #expect(throws: LocalProcessError.self) {
            try await run(
                LocalProcessSpec(arguments: ["/nonexistent/program"], environment: Self.baseEnvironment))
        }
        await #expect(throws: LocalProcessError.self) {
            try await run(
                LocalProcessSpec(
                    arguments: ["true"], environment: Self.baseEnvironment, workingDirectory: "/nonexistent"))
        }
    }

    /// True once no process's command line contains `text` (polled: a killed process takes a moment to go).
    func noProcessMatches(_ text: String) async throws -> Bool {
        for _ in 0..<100 {
            let running = try FileManager.default.contentsOfDirectory(atPath: "/proc").contains { entry in
                guard entry.allSatisfy(\.isNumber),
                    let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
                else { return false }
                let commandLine = String(
                    decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                return commandLine.contains(text) && !commandLine.contains("sh -c")
            }
            if !running { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
