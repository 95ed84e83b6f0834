import KeelTestSupport
import SSHClient
import Testing

/// Restarting the one test sshd refuses every other suite's connections meanwhile (the step-executor's
/// SSH tests too), so this suite is named `*ServerRestart*`: `scripts/test` runs it after everything
/// else, on its own.
@Suite("SSHClient across an sshd restart")
struct SSHServerRestartTests {
    @Test("after the sshd restarts, its host key is the same and new sessions work")
    func afterRestart() async throws {
        try await TestEnvironment.runScript("scripts/servers/sshd.sh", "restart")
        try await TestSSH.withSession { session async throws in
            #expect(try await session.execute("echo back").stdoutText == "back\n")
        }
    }
}
