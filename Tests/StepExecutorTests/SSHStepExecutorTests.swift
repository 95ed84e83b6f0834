import Foundation
import KeelCore
import KeelTestSupport
import SSHClient
import Testing

@testable import step_executor

/// `ssh` steps against the test sshd (`scripts/servers/sshd.sh start`): the detached job, its
/// environment and callback token, the pid file that makes a repeat start nothing, the reaper, and host
/// key refusal.
@Suite("ssh steps against the test sshd")
struct SSHStepExecutorTests {
    /// A step that records its environment (the token included, so readable by its owner only) in a file
    /// named by the run id, then sleeps.
    static func sleeperStep(id: String = "bench", env: [String: String] = [:]) -> StepDefinition {
        StepDefinition(
            id: id,
            kind: .ssh(
                SSHAction(
                    host: SSHTestHost.name,
                    command: [
                        "sh", "-c",
                        "umask 077; env > \"$HOME/.keel/jobs/$KEEL_RUN_ID.env\"; exec sleep 307",
                    ],
                    env: env, wait: WaitCondition(timeout: FlowDuration(milliseconds: 3_600_000)))))
    }

    @Test("the job starts detached with the attempt's environment and a valid token; a repeat starts nothing")
    func startsOnce() async throws {
        let host = try SSHTestHost()
        let attempt = work(Self.sleeperStep(env: ["MODEL": "${{ input.model }}"]), input: ["model": "tiny"])
        try await host.cleaningUp(after: [attempt]) {
            try await Self.checkStartsOnce(attempt, host: host)
        }
    }

    static func checkStartsOnce(_ attempt: StepWork, host: SSHTestHost) async throws {
        let started = Date()
        let outcome = await host.executor.execute(attempt)
        let outputs = try #require(outcome.outputs, "the attempt failed: \(outcome.message)")
        #expect(outputs["host"] == .string(SSHTestHost.name))
        let pid = try #require(outputs["pid"]?.int64Value.flatMap { Int(exactly: $0) })
        let files = SSHJobFiles(idempotencyKey: attempt.idempotencyKey)
        #expect(outputs["log"] == .string(files.logFile))

        try await host.withSession { session async throws in
            #expect(try await host.isRunning(pid, on: session))
            let recorded = try await session.execute("cat \(ShellWords.quote(files.pidFile))")
            #expect(recorded.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(pid)")

            let envFile = ".keel/jobs/\(attempt.runID).env"
            let written = try await eventually {
                try await session.execute("grep -q '^KEEL_ATTEMPT=' \(envFile)").exitStatus == 0
            }
            #expect(written)
            let environment = Self.variables(try await session.execute("cat \(envFile)").stdoutText)
            #expect(environment["MODEL"] == "tiny")
            #expect(environment["KEEL_RUN_ID"] == attempt.runID.description)
            #expect(environment["KEEL_STEP"] == "bench")
            #expect(environment["KEEL_ATTEMPT"] == "1")
            #expect(environment["KEEL_IDEMPOTENCY_KEY"] == attempt.idempotencyKey)
            #expect(environment["KEEL_CALLBACK_URL"] == "http://127.0.0.1:7404/v1/callbacks")
            let mode = try await session.execute("stat -c %a \(envFile)").stdoutText
            #expect(mode.trimmingCharacters(in: .whitespacesAndNewlines) == "600")
            let token = try #require(environment["KEEL_CALLBACK_TOKEN"])
            let claims = try CallbackToken.verify(token, keys: host.callbacks.keys)
            #expect(claims.run == attempt.runID)
            #expect(claims.step == "bench")
            #expect(claims.attempt == 1)
            #expect(claims.wait == "\(attempt.runID):bench:1:wait")
            // The wait's hour plus the ten-minute margin.
            let lifetime = Double(claims.expires) - started.timeIntervalSince1970
            #expect(lifetime > 4_100 && lifetime < 4_300)

            // The token reached the job only: not the outputs, not a log line.
            #expect(!JSONValue.object(outputs).jsonString().contains(token))
            #expect(!host.logs.all.isEmpty)
            #expect(host.logs.all.allSatisfy { !$0.contains(token) })

            // A redelivered attempt finds the pid file and starts no second copy.
            let again = await host.executor.execute(attempt)
            #expect(again.outputs?["pid"] == .number(JSONNumber(pid)))
            let copies = try await session.execute(
                "grep -lzx 'KEEL_RUN_ID=\(attempt.runID)' /proc/[0-9]*/environ 2>/dev/null | wc -l")
            #expect(copies.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

            _ = try await session.execute("rm -f \(envFile)")
        }
        let reaped = await host.reaper.reap(Self.reapRequest(attempt, pid: pid))
        #expect(reaped == .reaped(.terminated))
    }

    @Test("the reaper stops the job's whole process group: TERM, then KILL for what ignores it")
    func reaperStopsTheGroup() async throws {
        let host = try SSHTestHost()
        let step = StepDefinition(
            id: "stubborn",
            kind: .ssh(
                SSHAction(
                    host: SSHTestHost.name,
                    command: [
                        "sh", "-c",
                        "trap '' TERM; sleep 311 & child=$!; echo $child > \"$HOME/.keel/jobs/$KEEL_RUN_ID.child\"; while :; do sleep 1; done",
                    ],
                    wait: WaitCondition(timeout: FlowDuration(milliseconds: 600_000)))))
        let attempt = work(step)
        let other = work(step)
        try await host.cleaningUp(after: [attempt, other]) {
            try await Self.checkReaperStopsTheGroup(attempt, other: other, host: host)
        }
    }

    static func checkReaperStopsTheGroup(_ attempt: StepWork, other: StepWork, host: SSHTestHost)
        async throws
    {
        let outcome = await host.executor.execute(attempt)
        let pid = try #require(
            outcome.outputs?["pid"]?.int64Value.flatMap { Int(exactly: $0) }, "failed: \(outcome.message)")
        let childFile = ".keel/jobs/\(attempt.runID).child"
        let child = try await host.withSession { session async throws -> Int in
            let written = try await eventually {
                try await session.execute("test -s \(childFile)").exitStatus == 0
            }
            #expect(written)
            let text = try await session.execute("cat \(childFile); rm -f \(childFile)").stdoutText
            return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        try await host.withSession { session async throws in
            #expect(try await host.isRunning(pid, on: session))
            #expect(try await host.isRunning(child, on: session))
        }

        let reaped = await host.reaper.reap(Self.reapRequest(attempt, pid: pid))
        #expect(reaped == .reaped(.killed))
        try await host.withSession { session async throws in
            #expect(try await eventually { try await !host.isRunning(pid, on: session) })
            #expect(try await eventually { try await !host.isRunning(child, on: session) })
        }
        // Reaping again (a redelivered request) finds the group gone.
        #expect(await host.reaper.reap(Self.reapRequest(attempt, pid: pid)) == .reaped(.alreadyEnded))
        // A request for an attempt that never started a job changes nothing.
        #expect(await host.reaper.reap(Self.reapRequest(other, pid: nil)) == .reaped(.notStarted))
    }

    @Test("the reaper leaves alone a process its pid file names that does not carry the attempt's key")
    func reaperChecksTheJobsEnvironment() async throws {
        let host = try SSHTestHost()
        let attempt = work(Self.sleeperStep())
        let other = work(Self.sleeperStep())
        try await host.cleaningUp(after: [attempt, other]) {
            let outcome = await host.executor.execute(attempt)
            let pid = try #require(
                outcome.outputs?["pid"]?.int64Value.flatMap { Int(exactly: $0) }, "failed: \(outcome.message)"
            )
            // `other`'s pid file names the job of `attempt`: as if `other`'s job had ended and the system had
            // given its pid to `attempt`'s.
            let otherFiles = SSHJobFiles(idempotencyKey: other.idempotencyKey)
            try await host.withSession { session async throws in
                _ = try await session.execute("echo \(pid) > \(ShellWords.quote(otherFiles.pidFile))")
            }
            #expect(await host.reaper.reap(Self.reapRequest(other, pid: pid)) == .reaped(.foreign))
            try await host.withSession { session async throws in
                #expect(try await host.isRunning(pid, on: session))
            }
            #expect(await host.reaper.reap(Self.reapRequest(attempt, pid: pid)) == .reaped(.terminated))
        }
    }

    @Test("a start that failed after it was sent stops what it started under the attempt's pid file")
    func failedStartIsStopped() async throws {
        let host = try SSHTestHost()
        let attempt = work(Self.sleeperStep())
        try await host.cleaningUp(after: [attempt]) {
            let files = SSHJobFiles(idempotencyKey: attempt.idempotencyKey)
            // The start ran on the host, but its answer never reached the executor (the connection dropped).
            let started = try await host.withSession { session async throws in
                try await session.startDetachedOnce(
                    "exec sleep 313", environment: ["KEEL_IDEMPOTENCY_KEY": attempt.idempotencyKey],
                    pidFile: files.pidFile, logFile: files.logFile)
            }
            await host.executor.stopAfterFailedStart(
                host: SSHTestHost.name, files: files, logger: host.logs.logger)
            try await host.withSession { session async throws in
                #expect(
                    try await eventually {
                        try await !host.isRunning(Int(started.pid), on: session)
                    })
            }
            #expect(host.logs.all.contains { $0.contains("stopped what it may have started") })
            #expect(SSHStepExecutor.mayHaveRun(CancellationError()))
        }
    }

    @Test("a host key other than the pinned one fails the attempt as permanent and starts nothing")
    func wrongHostKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-ssh-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("other").path
        let keygen = Process()
        keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        keygen.arguments = ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]
        try keygen.run()
        keygen.waitUntilExit()
        let otherKey = try String(contentsOfFile: keyPath + ".pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let impostor = try SSHTestHost(hostKey: .pinned(otherKey))
        let attempt = work(Self.sleeperStep())
        let outcome = await impostor.executor.execute(attempt)
        #expect(outcome.errorClass == .permanent)
        #expect(outcome.message.contains("host key does not match"))
        #expect(outcome.message.contains(SSHTestHost.name))

        // The genuine key, pinned, works; and the refused attempt left nothing on the host.
        let knownHosts = try String(
            contentsOfFile: try TestEnvironment.require("KEEL_SSH_KNOWN_HOSTS"), encoding: .utf8)
        let line = try #require(knownHosts.split(separator: "\n").first { $0.contains("ssh-ed25519") })
        let genuine = try SSHTestHost(
            hostKey: .pinned(line.split(separator: " ").dropFirst().joined(separator: " ")))
        let files = SSHJobFiles(idempotencyKey: attempt.idempotencyKey)
        try await genuine.withSession { session async throws in
            #expect(try await session.execute("test -e \(ShellWords.quote(files.pidFile))").exitStatus != 0)
        }
    }

    @Test("an unknown host, a missing key secret or missing callback settings fail as permanent")
    func configurationFailures() async throws {
        let host = try SSHTestHost()
        var step = Self.sleeperStep()
        step.kind = .ssh(
            SSHAction(
                host: "nowhere", command: ["true"],
                wait: WaitCondition(timeout: FlowDuration(milliseconds: 60_000))))
        let unknown = await host.executor.execute(work(step))
        #expect(unknown.errorClass == .permanent)
        #expect(unknown.message.contains("host 'nowhere'") && unknown.message.contains(SSHTestHost.name))

        let noSecret = SSHStepExecutor(
            connector: SSHConnector(
                hosts: SSHHosts([host.host]), secrets: SecretSource(values: [:]),
                connectTimeout: .seconds(20),
                logger: host.logs.logger),
            callbacks: host.callbacks, secrets: SecretSource(values: [:]), logger: host.logs.logger)
        let missing = await noSecret.execute(work(Self.sleeperStep()))
        #expect(missing.errorClass == .permanent)
        #expect(
            missing.message.contains("key_secret") && missing.message.contains("KEEL_SECRET_TEST_SSH_KEY"))

        let noCallbacks = SSHStepExecutor(
            connector: host.connector, callbacks: nil, secrets: host.secrets, logger: host.logs.logger)
        let refused = await noCallbacks.execute(work(Self.sleeperStep()))
        #expect(refused.errorClass == .permanent)
        #expect(refused.message.contains("KEEL_CALLBACK_KEYS"))
    }

    static func reapRequest(_ attempt: StepWork, pid: Int?) -> SSHReapRequest {
        SSHReapRequest(
            runID: attempt.runID, step: attempt.step.id, attempt: attempt.attempt,
            idempotencyKey: attempt.idempotencyKey, host: SSHTestHost.name, pid: pid,
            reason: "the wait's timeout passed")
    }

    /// `NAME=value` lines of `env` output (values without newlines).
    static func variables(_ text: String) -> [String: String] {
        var variables: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            variables[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return variables
    }
}
