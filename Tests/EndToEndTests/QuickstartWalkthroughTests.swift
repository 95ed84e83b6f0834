import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// README's first ten minutes, as a newcomer follows them: `scripts/quickstart` (what `scripts/stack up`
/// runs last) on the real services, then the three things it prints, done as printed — the run started
/// with the printed command, the approval signed into and decided in a headless Chromium with the printed
/// URL and token, the run watched to its end with the printed command, and the printed `git log` showing
/// the approved diff applied.
@Suite(.serialized) struct QuickstartWalkthroughTests {
    /// What `scripts/quickstart` printed: the shell commands (`$ ...` lines), the page and the token.
    struct Walkthrough {
        var commands: [String] = []
        var page = ""
        var token = ""

        init(printed: String) {
            for line in printed.split(separator: "\n") {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("$ ") { commands.append(String(text.dropFirst(2))) }
                if text.hasPrefix("open ") { page = String(text.dropFirst(5)) }
                if text.hasPrefix("token: ") { token = String(text.dropFirst(7)) }
            }
        }
    }

    @Test func aNewcomerReachesTheApprovalInABrowserAndSeesTheApprovedDiffApplied() async throws {
        let stack = try await EngineStack(flows: [])
        let base = try await stack.startApprovalService()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("keel-state-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        // The settings `scripts/stack up` writes to .keel/env, here this test's database and virtual host.
        let settings = [
            "KEEL_STATE_DIR": state, "KEEL_DATABASE_URL": stack.database.url,
            "KEEL_AMQP_URL": stack.vhost.url,
            "KEEL_APPROVAL_SERVICE_URL": base, "KEEL_BIN_DIR": ServiceProcess.binDirectory.path,
        ]
        let printed = try await TestEnvironment.runScript(
            "scripts/quickstart", arguments: [], environment: settings)
        let walkthrough = Walkthrough(printed: printed)
        try #require(walkthrough.commands.count == 3, "\(printed)")
        #expect(walkthrough.page == base + "/sign-in")
        #expect(walkthrough.token.hasPrefix("keel_"), "\(printed)")
        // The token is kept for the reader, so `keel token create`'s "store it now" would mislead here.
        #expect(!printed.contains("shown only once"), "\(printed)")

        // 1. Start a run.
        let started = try await Self.shell(walkthrough.commands[0], settings)
        let run = try #require(started.split(separator: ":").first.map(String.init), "\(started)")
        #expect(started.hasSuffix(": started (quickstart v1)\n"), "\(started)")

        // 2. Review the agent's diff in the browser, and approve it.
        let browser = try await HeadlessChromium.launch()
        do {
            try await browser.open(walkthrough.page)
            try await browser.fill("#token", walkthrough.token)
            try await browser.click("#sign-in")
            #expect(try await browser.url() == base + "/approvals")
            let link = "a[href^='/approvals/\(run):review:']"
            let deadline = ContinuousClock.now + .seconds(120)
            while try await browser.evaluate("document.querySelectorAll(\"\(link)\").length") == 0,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(500))
                try await browser.open(base + "/approvals")
            }
            try await browser.click(link)
            #expect(
                try await browser.evaluate(
                    "[...document.querySelectorAll('.diff-added')].map(e => e.textContent)")
                    == ["+    echo $(( $1 + $2 ))"])
            #expect(
                try await browser.evaluate("document.querySelector('#summary').textContent")
                    == "Apply the agent's change? It says: Fixed add() in calc.sh: it subtracted instead of adding."
            )
            try await browser.saveScreenshot("quickstart-approval")
            try await browser.click("#approve")
            #expect(try await browser.text().contains("Your decision (approve) was recorded."))
        } catch {
            Issue.record("\(error)\nbrowser log:\n\(browser.log)\n\(stack.logs)")
        }
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)

        // 3. Watch the run finish, then see the approved diff, applied.
        let runs = try await stack.waitForFinishedRuns("quickstart", count: 1)
        #expect(runs[run] == "succeeded", "\(stack.logs)")
        let shown = try await Self.shell(
            walkthrough.commands[1].replacingOccurrences(of: "RUN", with: run), settings)
        #expect(shown.contains("succeeded"), "\(shown)")
        #expect(shown.contains("fix"), "\(shown)")
        let log = try await Self.shell(walkthrough.commands[2], settings)
        #expect(log.contains("Apply the approved change (sha256 "), "\(log)")
        #expect(log.contains("+    echo $(( $1 + $2 ))"), "\(log)")
        try await stack.stop()
    }

    /// Runs a printed command with `sh -c` from the checkout, as a newcomer pastes it, with `settings`.
    static func shell(_ command: String, _ settings: [String: String]) async throws -> String {
        let assignments = settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try await TestEnvironment.run(
            ["/usr/bin/env"] + assignments + ["sh", "-c", command], in: TestEnvironment.packageRoot.path)
    }
}
