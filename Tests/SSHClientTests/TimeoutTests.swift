import SSHClient
import KeelTestSupport
import Testing

extension SSHServerTests {
    @Suite("Timeouts and cancellation")
    struct Timeouts {
        @Test("a command past its timeout throws timeout quickly and is killed")
        func commandTimeout() async throws {
            let marker = "30.\(Int.random(in: 100_000...999_999))"
            try await TestSSH.withSession { session async throws in
                let started = ContinuousClock.now
                let error = try await TestSSH.sshError {
                    _ = try await session.execute("sleep \(marker)", timeout: .seconds(1))
                }
                let elapsed = ContinuousClock.now - started
                #expect(error.code == .timeout)
                #expect(error.command == "sleep \(marker)")
                #expect(elapsed >= .seconds(1))
                #expect(elapsed < .seconds(10))
                #expect(
                    await eventually {
                        TestSSH.localProcesses(withArguments: ["sleep", marker]).isEmpty
                    })
                #expect(try await session.execute("echo still usable").stdoutText == "still usable\n")
            }
        }

        @Test("a command that ignores TERM is killed, with the processes it started")
        func commandIgnoringTerm() async throws {
            let marker = "31.\(Int.random(in: 100_000...999_999))"
            try await TestSSH.withSession { session async throws in
                let started = ContinuousClock.now
                let error = try await TestSSH.sshError {
                    _ = try await session.execute(
                        "trap '' TERM; sleep \(marker) & sleep \(marker); wait", timeout: .seconds(1))
                }
                #expect(error.code == .timeout)
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(
                    await eventually {
                        TestSSH.localProcesses(withArguments: ["sleep", marker]).isEmpty
                    })
                #expect(try await session.execute("echo still usable").stdoutText == "still usable\n")
            }
        }

        @Test("cancelling the task of execute throws CancellationError and stops the command")
        func executeCancellation() async throws {
            let marker = "32.\(Int.random(in: 100_000...999_999))"
            try await TestSSH.withSession { session async throws in
                let task = Task { try await session.execute("exec sleep \(marker)") }
                let running = await eventually {
                    !TestSSH.localProcesses(withArguments: ["sleep", marker]).isEmpty
                }
                try #require(running, "the remote sleep never started")
                let cancelled = ContinuousClock.now
                task.cancel()
                let result = await task.result
                #expect(ContinuousClock.now - cancelled < .seconds(10))
                #expect(throws: CancellationError.self) { try result.get() }
                #expect(
                    await eventually {
                        TestSSH.localProcesses(withArguments: ["sleep", marker]).isEmpty
                    })
            }
        }
    }
}
