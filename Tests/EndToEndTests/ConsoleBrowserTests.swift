import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The operators' console in a real browser on the real services: a flow pushed twice (v2 live), a run that
/// failed (its input and its step's error hold a script tag), one waiting at an approval, one approved
/// and finished, and a refused trigger whose routing key holds quotes and markup. A headless Chromium
/// signs in through the page and visits every console page; each is checked for its content and for
/// holding no script element. With `KEEL_BROWSER_SCREENSHOTS=docs/screenshots` it saves the pictures
/// docs/console.md shows.
@Suite(.serialized) struct ConsoleBrowserTests {
    static func flow(version: Int) -> String {
        """
        flow: console-demo
        description: The console's browser test (v\(version)).
        input:
          type: object
          required: [note]
          properties:
            note: {type: string}
        steps:
          - id: build
            run: {command: [sh, -c, 'echo "building $0" >&2; case "$0" in *fail*) exit 3;; esac', "${{ input.note }}"]}
          - id: review
            needs: [build]
            approval:
              approvers: [alice]
              summary: "Ship ${{ input.note }}"
        \(version > 1 ? "  - id: announce\n    needs: [review]\n    noop: {}\n" : "")
        """
    }

    static let script = "<script>alert(1)</script>"
    /// A routing key no flow has, with quotes and markup: the trigger is refused and shown as text.
    static let hostileKey = #"no"such'flow<script>alert(1)</script>"#

    @Test("an operator signs in and reads every console page in a browser")
    func everyConsolePageInABrowser() async throws {
        let stack = try await EngineStack(flows: [Self.flow(version: 1)])
        let v2 = try stack.temporaryFile(Self.flow(version: 2))
        #expect(try await stack.keel(["flow", "push", v2], database: stack.database).status == 0)
        #expect(
            try await stack.keel(
                ["flow", "release", "console-demo", "--reason", "adds the announcement"],
                database: stack.database
            ).status == 0)
        let base = try await stack.startApprovalService()
        let token = try await stack.token("alice")
        let alice = try #require(try await APITokenStore(pool: stack.pool).authenticate(token))
        // Deciding here advances the run here: with the stack's shards, so the next step's dispatch finds
        // its queue.
        let shards = Int(stack.environment["KEEL_STEP_SHARDS"] ?? "") ?? 2
        let approvals = ApprovalStore(
            pool: stack.pool,
            advancer: RunAdvancer(pool: stack.pool, settings: EngineSettings(stepShards: shards)))

        // One run fails at build, with markup in its input and so in its error (stderr is quoted).
        try await stack.trigger(
            "console-demo", input: #"{"note": "fail \#(Self.script)"}"#, key: "failing", actor: "ci")
        let failing = try await stack.runID(key: "failing", flow: "console-demo")
        #expect(try await stack.finish(failing, expected: "failed") == "failed")
        // One is approved and succeeds; one waits at the review.
        try await stack.trigger("console-demo", input: #"{"note": "approved"}"#, key: "approved", actor: "ci")
        let approved = try await stack.runID(key: "approved", flow: "console-demo")
        let first = try #require(try await Self.pending(approvals, for: alice, run: approved))
        _ = try await approvals.decide(first.id, by: alice, decision: .approve, note: "fine", digests: nil)
        #expect(try await stack.finish(approved, expected: "succeeded") == "succeeded")
        try await stack.trigger("console-demo", input: #"{"note": "ship it"}"#, key: "waiting", actor: "ci")
        let waiting = try await stack.runID(key: "waiting", flow: "console-demo")
        #expect(try await Self.pending(approvals, for: alice, run: waiting) != nil)
        // A refused trigger: malformed JSON under a routing key no flow has.
        try await stack.trigger(Self.hostileKey, key: "refused")
        try await Self.waitForRejection(stack)

        let browser = try await HeadlessChromium.launch()
        do {
            try await browser.setViewport(width: 1100, height: 800)
            try await browser.open(base + "/console/runs")
            #expect(try await browser.url() == base + "/sign-in")
            try await browser.fill("#token", token)
            try await browser.click("#sign-in")
            try await browser.click("nav.sections a[href='/console/runs']")
            #expect(try await browser.url() == base + "/console/runs")
            var text = try await browser.text()
            for run in [failing, approved, waiting] {
                #expect(text.contains(String(run.suffix(12))), "\(run) listed")
            }
            #expect(text.contains("failed") && text.contains("waiting") && text.contains("succeeded"))
            #expect(try await Self.scripts(browser) == 0)
            #expect(
                try await browser.evaluate("document.querySelector('meta[http-equiv=refresh]').content")
                    == "10",
                "a run is unfinished: the page reloads itself")
            try await Self.shoot(browser, "console-runs")

            // The filter form is a plain GET form.
            try await browser.fill("#filter-status", "failed")
            try await browser.click("#filter")
            #expect(
                try await browser.url() == base
                    + "/console/runs?flow=&status=failed&requester=&since=&until=&text=")
            text = try await browser.text()
            #expect(text.contains(String(failing.suffix(12))))
            #expect(!text.contains(String(waiting.suffix(12))))
            #expect(try await browser.evaluate("document.querySelector('meta[http-equiv=refresh]')") == .null)

            // The failed run: its error and input are shown as text.
            try await browser.click("a[href='/console/runs/\(failing)']")
            #expect(try await browser.url() == base + "/console/runs/" + failing)
            #expect(try await Self.scripts(browser) == 0)
            let error = try await browser.evaluate(
                "document.querySelector('#step-build .error-message').textContent")
            #expect(error.stringValue?.contains("exit code 3") == true, "\(error)")
            #expect(error.stringValue?.contains("building fail \(Self.script)") == true, "\(error)")
            #expect(
                try await browser.evaluate("document.querySelector('#input').textContent")
                    == .string(#"{"note":"fail \#(Self.script)"}"#))
            text = try await browser.text()
            #expect(text.contains("console-demo v2"))
            #expect(text.contains("build.1.stderr"), "the run's resources: its stderr")
            #expect(text.contains("step.failed"), "the history")
            try await Self.shoot(browser, "console-run-failed")

            // The waiting run: the picture, the approval, the refresh.
            try await browser.open(base + "/console/runs/" + waiting)
            #expect(try await Self.scripts(browser) == 0)
            let bars = try await browser.evaluate(
                "document.querySelectorAll('svg.run-timeline g.attempt').length")
            #expect((bars.int64Value ?? 0) >= 2, "build's attempt and the review's")
            #expect(try await browser.evaluate("document.querySelector('#status').textContent") == "waiting")
            #expect(try await browser.text().contains("Ship ship it"))
            #expect(
                try await browser.evaluate("document.querySelector('meta[http-equiv=refresh]').content")
                    == "10")
            try await Self.shoot(browser, "console-run")

            // The approved run shows its decision.
            try await browser.open(base + "/console/runs/" + approved)
            text = try await browser.text()
            #expect(text.contains("alice") && text.contains("fine"), "the decision and its note")
            #expect(try await browser.evaluate("document.querySelector('meta[http-equiv=refresh]')") == .null)

            // Flows, the flow, and the diff of its two versions.
            try await browser.click("nav.sections a[href='/console/flows']")
            text = try await browser.text()
            #expect(text.contains("console-demo") && text.contains("v2"))
            try await Self.shoot(browser, "console-flows")
            try await browser.click("a[href='/console/flows/console-demo']")
            text = try await browser.text()
            #expect(text.contains("adds the announcement"), "the release history")
            #expect(text.contains("v2 live"))
            try await Self.shoot(browser, "console-flow")
            try await browser.click("#compare")
            #expect(try await browser.url() == base + "/console/flows/console-demo/diff?from=1&to=2")
            #expect(
                try await browser.evaluate(
                    "[...document.querySelectorAll('.diff-added')].map(e => e.textContent)")
                    == [
                        "+description: The console's browser test (v2).", "+  - id: announce",
                        "+    needs: [review]", "+    noop: {}",
                    ])
            try await Self.shoot(browser, "console-flow-diff")

            // Dead letters: the refused trigger, its routing key as text.
            try await browser.click("nav.sections a[href='/console/dead-letters']")
            #expect(try await Self.scripts(browser) == 0)
            text = try await browser.text()
            #expect(text.contains(Self.hostileKey))
            #expect(text.contains("malformed_json"))
            #expect(text.contains("keel.dead.keel.triggers"))
            try await Self.shoot(browser, "console-dead-letters")

            // A hostile filter value comes back as the field's value, not as markup.
            try await browser.click("nav.sections a[href='/console/runs']")
            try await browser.fill("#filter-flow", #""><script>alert(1)</script>"#)
            try await browser.click("#filter")
            #expect(try await Self.scripts(browser) == 0)
            #expect(
                try await browser.evaluate("document.querySelector('#filter-flow').value")
                    == .string(#""><script>alert(1)</script>"#))
            #expect(try await browser.text().contains("No runs match."))

            // An unknown run is a 404 page, still in the frame.
            try await browser.open(base + "/console/runs/0190a000-0000-7000-8000-000000000000")
            #expect(try await browser.text().contains("There is no run"))
        } catch {
            Issue.record("\(error)\nbrowser log:\n\(browser.log)\n\(stack.logs)")
        }
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)

        // What the service sent, before any browser parsed it: the hostile text only ever escaped.
        for path in [
            "/console/runs/" + failing, "/console/dead-letters", "/console/runs?flow=%22%3E%3Cscript%3E",
        ] {
            let (status, html) = try await Self.served(base + path, token: token)
            #expect(status == 200, "\(path)")
            #expect(!html.contains("<script"), "\(path)")
            #expect(html.contains("&lt;script&gt;"), "\(path)")
        }
        try await stack.stop()
    }

    /// A page as the service serves it to `token`'s session: status and HTML.
    static func served(_ url: String, token: String) async throws -> (Int, String) {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.setValue("keel_session=\(token)", forHTTPHeaderField: "Cookie")
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// How many script elements the page holds (none: nothing hostile became markup).
    static func scripts(_ browser: HeadlessChromium) async throws -> Int64 {
        try await browser.evaluate("document.querySelectorAll('script').length").int64Value ?? -1
    }

    /// A screenshot of the page's top, at most 900 pixels of it: small enough for the docs.
    static func shoot(_ browser: HeadlessChromium, _ name: String) async throws {
        let height = try await browser.evaluate("document.documentElement.scrollHeight").int64Value ?? 800
        try await browser.saveScreenshot(name, size: (width: 1100, height: Int(min(height, 900))))
    }

    /// The run's pending approval, once the engine asked for it.
    static func pending(_ approvals: ApprovalStore, for principal: APITokenRecord, run: String) async throws
        -> ApprovalRecord?
    {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let approval = try await approvals.list(for: principal, status: .pending).first(where: {
                $0.runID.description == run
            }) {
                return approval
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    static func waitForRejection(_ stack: EngineStack) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await !TriggerRejectionStore(pool: stack.pool).recent(limit: 1).isEmpty { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the trigger was not refused:\n\(stack.logs)")
    }
}
