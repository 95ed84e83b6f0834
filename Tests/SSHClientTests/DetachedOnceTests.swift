import Foundation
import SSHClient
import Testing

extension SSHServerTests {
    /// `startDetachedOnce` and `stopDetached` against the test sshd, each test in a folder of its own.
    @Suite("Jobs started once, stopped through their pid file")
    struct DetachedOnce {
        @Test("a start whose log file cannot be created removes its pid file: the next start runs")
        func failedLogRemovesPidFile() async throws {
            try await Self.withFolder { session, folder async throws in
                let pidFile = "\(folder)/job.pid"
                let refused = try await TestSSH.sshError {
                    _ = try await session.startDetachedOnce(
                        "exec sleep 317", pidFile: pidFile, logFile: "\(folder)/missing/job.log")
                }
                #expect(refused.code == .remoteCommandFailed)
                #expect(try await session.execute("test -e \(ShellQuote.quote(pidFile))").exitStatus != 0)

                let started = try await session.startDetachedOnce(
                    "exec sleep 317", pidFile: pidFile, logFile: "\(folder)/job.log")
                #expect(!started.alreadyStarted)
                #expect(TestSSH.isRunningLocally(started.pid))
                #expect(try await session.stopDetached(pidFile: pidFile) == .terminated)
            }
        }

        @Test("an empty pid file fails the start with a clear error instead of answering a pid")
        func emptyPidFile() async throws {
            try await Self.withFolder { session, folder async throws in
                let pidFile = "\(folder)/job.pid"
                _ = try await session.execute(": > \(ShellQuote.quote(pidFile))")
                let stale = try await TestSSH.sshError {
                    _ = try await session.startDetachedOnce(
                        "exec sleep 318", pidFile: pidFile, logFile: "\(folder)/job.log")
                }
                #expect(stale.code == .remoteCommandFailed)
                #expect(stale.message.contains("pid file \(pidFile) is empty"))
                let log = try await session.execute("test -e \(ShellQuote.quote("\(folder)/job.log"))")
                #expect(log.exitStatus != 0, "nothing was started under the empty pid file")
            }
        }

        @Test("a repeated start finds the job, and reports it ended once it has")
        func repeatedStart() async throws {
            try await Self.withFolder { session, folder async throws in
                let pidFile = "\(folder)/job.pid"
                let flag = "\(folder)/go"
                let first = try await session.startDetachedOnce(
                    "while [ ! -e \(ShellQuote.quote(flag)) ]; do sleep 0.1; done", pidFile: pidFile,
                    logFile: "\(folder)/job.log")
                let again = try await session.startDetachedOnce("exec sleep 319", pidFile: pidFile)
                #expect(again == DetachedStart(pid: first.pid, alreadyStarted: true, running: true))

                _ = try await session.execute("touch \(ShellQuote.quote(flag))")
                #expect(await TestSSH.eventually { !TestSSH.isRunningLocally(first.pid) })
                let ended = try await session.startDetachedOnce("exec sleep 319", pidFile: pidFile)
                #expect(ended == DetachedStart(pid: first.pid, alreadyStarted: true, running: false))
            }
        }

        @Test("stopDetached with a marker leaves a group alone whose processes lack it")
        func markerGuardsReusedPids() async throws {
            try await Self.withFolder { session, folder async throws in
                let pidFile = "\(folder)/job.pid"
                let job = try await session.startDetachedOnce(
                    "exec sleep 320", environment: ["KEEL_IDEMPOTENCY_KEY": "run-1:bench:1"],
                    pidFile: pidFile)
                // As if the pid had been reused by another attempt's job: its key differs.
                let other = try await session.stopDetached(
                    pidFile: pidFile, marker: ("KEEL_IDEMPOTENCY_KEY", "run-1:bench:2"))
                #expect(other == .foreign)
                #expect(TestSSH.isRunningLocally(job.pid))
                // A prefix of the value is not the value.
                let prefix = try await session.stopDetached(
                    pidFile: pidFile, marker: ("KEEL_IDEMPOTENCY_KEY", "run-1:bench:"))
                #expect(prefix == .foreign)

                let own = try await session.stopDetached(
                    pidFile: pidFile, marker: ("KEEL_IDEMPOTENCY_KEY", "run-1:bench:1"))
                #expect(own == .terminated)
                #expect(await TestSSH.eventually { !TestSSH.isRunningLocally(job.pid) })
            }
        }

        /// Runs `body` with a session and a fresh folder on the host, removed afterwards.
        static func withFolder(_ body: (SSHSession, String) async throws -> Void) async throws {
            try await TestSSH.withSession { session async throws in
                let folder = try await session.execute("mktemp -d").stdoutText.filter { !$0.isNewline }
                do {
                    try await body(session, folder)
                } catch {
                    _ = try? await session.execute("rm -rf \(ShellQuote.quote(folder))")
                    throw error
                }
                _ = try await session.execute("rm -rf \(ShellQuote.quote(folder))")
            }
        }
    }
}
