import Foundation
import SSHClient
import KeelTestSupport
import Testing

extension SSHServerTests {
    @Suite("Detached processes")
    struct Detached {
        @Test("a detached process outlives its session and can be signalled from another")
        func outlivesSession() async throws {
            let marker = "33.\(Int.random(in: 100_000...999_999))"
            let started = ContinuousClock.now
            let pid = try await TestSSH.withSession { session async throws in
                try await session.startDetached("exec sleep \(marker)")
            }
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(pid > 1)

            try await TestSSH.withSession { session async throws in
                #expect(try await session.execute("kill -0 \(pid)").exitStatus == 0)
                #expect(TestSSH.isRunningLocally(pid))
                // Fully detached: its own session, stdin from /dev/null.
                let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
                let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(
                    separator: " ")
                #expect(fields.count > 3 && fields[3] == "\(pid)", "the process leads its own session")
                let stdin = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/0")
                #expect(stdin == "/dev/null")

                try await session.signal(pid: pid, "TERM")
                #expect(await eventually { !TestSSH.isRunningLocally(pid) })
            }
        }

        @Test("environment and log file reach the detached process; a process group can be signalled")
        func logFileAndEnvironment() async throws {
            try await TestSSH.withSession { session async throws in
                let directory = try await session.execute("mktemp -d").stdoutText.filter { !$0.isNewline }
                let log = "\(directory)/detached log.txt"
                let pid = try await session.startDetached(
                    "echo \"out $KEEL_DETACHED\"; echo err >&2; sleep 60 & sleep 60; wait",
                    environment: ["KEEL_DETACHED": "it's $here"], logFile: log)
                let logged = try await eventually {
                    let result = try await session.execute("cat \(ShellQuote.quote(log))")
                    return result.stdoutText.contains("out it's $here\n")
                        && result.stdoutText.contains("err\n")
                }
                #expect(logged)
                try await session.signal(pid: pid, "KILL", processGroup: true)
                #expect(await eventually { !TestSSH.isRunningLocally(pid) })
                _ = try await session.execute("rm -rf \(directory)")
            }
        }

        @Test("signalling a process that does not exist fails; bad signal names are refused")
        func signalFailures() async throws {
            try await TestSSH.withSession { session async throws in
                // A pid nobody has (exited processes may linger as zombies, which kill still reaches).
                let pid = try #require(
                    (2..<Int32(32768)).reversed().first {
                        !FileManager.default.fileExists(atPath: "/proc/\($0)")
                    })
                let missing = try await TestSSH.sshError { try await session.signal(pid: pid, "TERM") }
                #expect(missing.code == .remoteCommandFailed)

                for bad in ["", "TERM; reboot", "-9", "$(id)"] {
                    let error = try await TestSSH.sshError { try await session.signal(pid: pid, bad) }
                    #expect(error.code == .invalidArgument)
                }
                let badPid = try await TestSSH.sshError { try await session.signal(pid: 0) }
                #expect(badPid.code == .invalidArgument)
            }
        }
    }
}

/// Single quotes for building test command lines.
enum ShellQuote {
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
