import Foundation
import SSHClient
import KeelTestSupport
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

        @Test(
            "an empty pid file fails the start with a clear error; meanwhile no command line shows the environment"
        )
        func emptyPidFile() async throws {
            try await Self.withFolder { session, folder async throws in
                let pidFile = "\(folder)/job.pid"
                _ = try await session.execute(": > \(ShellQuote.quote(pidFile))")
                let secret = "token-\(UInt64.random(in: .min ... .max))"
                // The start waits (20 s) for the pid: time enough to look at every command line on the host.
                async let attempt = TestSSH.sshError {
                    _ = try await session.startDetachedOnce(
                        "exec sleep 318", environment: ["KEEL_CALLBACK_TOKEN": secret], pidFile: pidFile,
                        logFile: "\(folder)/job.log")
                }
                var looks = 0
                var shown = false
                while looks < 30 {
                    shown = shown || Self.anyCommandLineContains(secret)
                    looks += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
                let stale = try await attempt
                #expect(!shown, "the environment reached a command line (visible in ps)")
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
                #expect(await eventually { !TestSSH.isRunningLocally(first.pid) })
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
                #expect(await eventually { !TestSSH.isRunningLocally(job.pid) })
            }
        }

        /// Whether a process on this machine (the test sshd is local) has `text` in its arguments.
        static func anyCommandLineContains(_ text: String) -> Bool {
            let needle = Array(text.utf8)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.contains { entry in
                guard Int32(entry) != nil,
                    let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
                else { return false }
                let bytes = [UInt8](data)
                guard bytes.count >= needle.count else { return false }
                return (0...(bytes.count - needle.count)).contains {
                    bytes[$0..<($0 + needle.count)].elementsEqual(needle)
                }
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
