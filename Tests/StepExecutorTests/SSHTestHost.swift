import Foundation
import KeelCore
import KeelTestSupport
import Logging
import SSHClient
import Synchronization
import Testing

@testable import step_executor

/// The test sshd of scripts/servers/sshd.sh as an `ssh` step host named `test-host`, with the client key
/// handed over as the secret `TEST_SSH_KEY`, and the callback settings the executor mints tokens with.
struct SSHTestHost {
    static let name = "test-host"
    static let gatewayURL = "http://127.0.0.1:7404/"

    let host: SSHHost
    let secrets: SecretSource
    let callbacks: CallbackSettings
    let logs: CapturedLogs

    /// The host checked against the sshd's known_hosts, or against `hostKey` when given.
    init(hostKey: SSHHostKeyPolicy? = nil) throws {
        let key = try String(contentsOfFile: try TestEnvironment.require("KEEL_SSH_KEY"), encoding: .utf8)
        let port = try #require(Int(try TestEnvironment.require("KEEL_SSH_PORT")))
        host = SSHHost(
            name: Self.name, address: try TestEnvironment.require("KEEL_SSH_HOST"), port: port,
            user: try TestEnvironment.require("KEEL_SSH_USER"), key: .secret("TEST_SSH_KEY"),
            hostKey: try hostKey ?? .knownHosts(path: TestEnvironment.require("KEEL_SSH_KNOWN_HOSTS")))
        secrets = SecretSource(values: ["TEST_SSH_KEY": key])
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        callbacks = CallbackSettings(
            keys: try CallbackKeyRing(keys: ["test": secret], signingKeyID: "test"),
            gatewayURL: Self.gatewayURL)
        logs = CapturedLogs()
    }

    var connector: SSHConnector {
        SSHConnector(
            hosts: SSHHosts([host]), secrets: secrets, connectTimeout: .seconds(20), logger: logs.logger)
    }

    var executor: SSHStepExecutor {
        SSHStepExecutor(connector: connector, callbacks: callbacks, secrets: secrets, logger: logs.logger)
    }

    var reaper: SSHReaper { SSHReaper(connector: connector, grace: .seconds(5), logger: logs.logger) }

    /// Runs `body` with a session of its own to the host (to look at what the executor did there).
    func withSession<T>(_ body: (SSHSession) async throws -> T) async throws -> T {
        let session = try await connector.connect(to: Self.name)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Removes an attempt's pid and log files (they stay there by design once reaped) and the files the
    /// test jobs write (`<run>.env`, `<run>.child`) from the host.
    func removeJobFiles(of attempt: StepWork) async throws {
        let files = SSHJobFiles(idempotencyKey: attempt.idempotencyKey)
        try await withSession { session async throws in
            _ = try await session.execute(
                "rm -f \(ShellWords.quote(files.pidFile)) \(ShellWords.quote(files.logFile)) "
                    + ".keel/jobs/\(attempt.runID).env .keel/jobs/\(attempt.runID).child")
        }
    }

    /// Runs `body`, then, whether it threw or not, stops the attempts' jobs and removes their files: a
    /// failed test leaves no job (nor the environment file with its token) behind.
    func cleaningUp<T>(after attempts: [StepWork], _ body: () async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body()
        } catch {
            await cleanUp(attempts)
            throw error
        }
        await cleanUp(attempts)
        return result
    }

    private func cleanUp(_ attempts: [StepWork]) async {
        for attempt in attempts {
            _ = await reaper.reap(SSHStepExecutorTests.reapRequest(attempt, pid: nil))
            try? await removeJobFiles(of: attempt)
        }
    }

    /// Whether `pid` runs on the host: `kill -0` reaches it and it is not a zombie.
    func isRunning(_ pid: Int, on session: SSHSession) async throws -> Bool {
        let check = "kill -0 \(pid) 2>/dev/null && ! sed 's/.*) //' /proc/\(pid)/stat | grep -q '^Z'"
        return try await session.execute(check).exitStatus == 0
    }

}

/// Every log line (message and metadata) a logger wrote, at trace level, to look for leaks.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "keel.ssh.test") { label in CapturingHandler(label: label, sink: self) }
    }

    var all: [String] { lines.withLock { $0 } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let label: String
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            sink.append("\(event.level) \(event.message) \(merged)")
        }
    }
}
