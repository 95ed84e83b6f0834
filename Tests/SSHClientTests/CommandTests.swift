import Foundation
import SSHClient
import Testing

extension SSHServerTests {
    @Suite("Commands")
    struct Commands {
        @Test("stdout, stderr and the exit status come back separately")
        func outputAndExitStatus() async throws {
            try await TestSSH.withSession { session async throws in
                let result = try await session.execute("echo to-out; echo to-err >&2; exit 3")
                #expect(result.stdoutText == "to-out\n")
                #expect(result.stderrText == "to-err\n")
                #expect(result.exitStatus == 3)
                #expect(result.exitSignal == nil)

                let whoami = try await session.execute("id -un")
                #expect(whoami.stdoutText == "\(try TestSSH.user)\n")
                #expect(whoami.exitStatus == 0)
            }
        }

        @Test("a command reading stdin sees EOF at once")
        func stdinIsEmpty() async throws {
            try await TestSSH.withSession { session async throws in
                let result = try await session.execute("cat; echo read-all", timeout: .seconds(20))
                #expect(result.stdoutText == "read-all\n")
            }
        }

        @Test("a command killed by a signal reports 128 + its number and the signal's name")
        func killedBySignal() async throws {
            try await TestSSH.withSession { session async throws in
                let result = try await session.execute("kill -s TERM $$")
                #expect(result.exitSignal == "TERM")
                #expect(result.exitStatus == 143)
            }
        }

        @Test("more than a MiB on both streams at once arrives intact")
        func largeOutput() async throws {
            let expected = (1...300_000).map { "\($0)\n" }.joined()
            try await TestSSH.withSession { session async throws in
                let result = try await session.execute(
                    "seq 1 300000 & seq 1 300000 >&2; wait", timeout: .seconds(60))
                #expect(result.exitStatus == 0)
                #expect(result.stdout.count == expected.utf8.count)
                #expect(result.stdout.count > 1 << 20)
                #expect(result.stdoutText == expected)
                #expect(result.stderrText == expected)

                let zeros = try await session.execute("head -c 3000000 /dev/zero", timeout: .seconds(60))
                #expect(zeros.stdout.count == 3_000_000)
                #expect(zeros.stdout.allSatisfy { $0 == 0 })
            }
        }

        @Test("environment values reach the command literally")
        func environmentWithNastyValues() async throws {
            let environment = [
                "KEEL_QUOTES": #"it's "quoted" \'both\' ways"#,
                "KEEL_SHELL": "$HOME `id` $(id) ${PATH} ; rm -rf / && exit 1 | cat > /tmp/x & \\ \\n",
                "KEEL_SPACES": "  leading and trailing  \t tab ",
                "KEEL_NEWLINES": "line one\nline two\n\nline four\n",
                "KEEL_EMPTY": "",
                "KEEL_UNICODE": "grüße 🚀 ✓",
                "_underscore_1": "'",
                "KEEL_COMBINING": "'\u{301}; echo broken-out; '\u{308}",
            ]
            let names = environment.keys.sorted()
            try await TestSSH.withSession { session async throws in
                let command = "printf '%s\\0' " + names.map { "\"$\($0)\"" }.joined(separator: " ")
                let result = try await session.execute(command, environment: environment)
                #expect(result.exitStatus == 0)
                #expect(result.stderrText == "")
                let expected: [UInt8] = names.flatMap { Array((environment[$0] ?? "").utf8) + [0] }
                #expect(result.stdout == expected)

                // The variables are exported: programs the command starts see them too.
                let child = try await session.execute(
                    "sh -c 'printf %s \"$KEEL_SHELL\"'",
                    environment: ["KEEL_SHELL": environment["KEEL_SHELL"] ?? ""])
                #expect(child.stdoutText == environment["KEEL_SHELL"])
            }
        }

        @Test("bad environment names and NUL bytes are refused without running anything")
        func invalidEnvironment() async throws {
            try await TestSSH.withSession { session async throws in
                for name in ["1ABC", "A-B", "A B", "", "X;rm"] {
                    let error = try await TestSSH.sshError {
                        _ = try await session.execute("true", environment: [name: "v"])
                    }
                    #expect(error.code == .invalidArgument)
                }
                let error = try await TestSSH.sshError {
                    _ = try await session.execute("true", environment: ["TOKEN": "secret-value\0tail"])
                }
                #expect(error.code == .invalidArgument)
                #expect(!error.description.contains("secret-value"))
                // The session is still usable.
                #expect(try await session.execute("echo ok").stdoutText == "ok\n")
            }
        }

        @Test("commands from several tasks on one session all complete")
        func concurrentCommandsOnOneSession() async throws {
            try await TestSSH.withSession { session async throws in
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<8 {
                        group.addTask { (index, try await session.execute("echo \(index)").stdoutText) }
                    }
                    var seen = 0
                    for try await (index, output) in group {
                        #expect(output == "\(index)\n")
                        seen += 1
                    }
                    #expect(seen == 8)
                }
            }
        }

        @Test("operations after close fail with connectionClosed")
        func closedSession() async throws {
            let session = try await SSHSession.connect(
                try TestSSH.configuration(), logger: TestSSH.logger)
            await session.close()
            let error = try await TestSSH.sshError { _ = try await session.execute("true") }
            #expect(error.code == .connectionClosed)
            await session.close()
        }
    }
}
