import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// The approval page's browser test: the real services, a run waiting at an approval step, and a real headless
/// Chromium that signs in with an approver's token, opens the approval, sees its summary and diff, and
/// approves it with a note; the run then finishes and the decision is recorded with that note. And the
/// same with a request for changes first, which sends the run back to `patch` and asks again.
@Suite(.serialized) struct ApprovalWebBrowserTests {
    /// `patch` writes the diff given as input to `patch.diff`, a declared `text/x-diff` resource output,
    /// as the safe-code-change example's agent does; `apply` succeeds only after an approval.
    static let flow = """
        flow: web-review
        input:
          type: object
          required: [diff, title]
          properties:
            diff: {type: string}
            title: {type: string}
        steps:
          - id: patch
            run: {command: [sh, -c, 'printf "%s\\n" "$0" > patch.diff', "${{ input.diff }}"]}
            outputs: {diff: {resource: patch.diff, type: text/x-diff}}
          - id: review
            needs: [patch]
            approval:
              approvers: [alice]
              summary: "Apply ${{ input.title }}"
              bind: ["${{ steps.patch.outputs.diff }}"]
              request_changes: {step: patch, max_rounds: 1}
          - id: apply
            needs: [review]
            run: {command: [sh, -c, 'test "$0" = approve', "${{ steps.review.decision }}"]}
        """

    static let diff = """
        --- a/greeting.txt
        +++ b/greeting.txt
        @@ -1,2 +1,2 @@
         Hello,
        -old <world>
        +new <world> & more
        """

    /// The title has markup in it: the page must show it as text.
    static let title = "the <b>greeting</b> fix"

    @Test func anApproverSignsInSeesTheDiffAndApprovesInABrowser() async throws {
        let (stack, base, token, alice, approvals, approval) = try await Self.runWaitingAtReview()

        let browser = try await HeadlessChromium.launch()
        do {
            try await browser.open(base + "/")
            #expect(try await browser.url() == base + "/sign-in")
            try await browser.fill("#token", token)
            try await browser.click("#sign-in")
            #expect(try await browser.url() == base + "/approvals")
            try await browser.saveScreenshot("approvals")
            #expect(try await browser.text().contains("web-review v1"))

            // The list links each approval by its id (`<run>:<step>:<attempt>:approval`; `:` needs no escaping).
            let page = "/approvals/" + approval.id
            try await browser.click("a[href='\(page)']")
            #expect(try await browser.url() == base + page)
            #expect(
                try await browser.evaluate("document.querySelector('#summary').textContent")
                    == .string("Apply \(Self.title)"))
            #expect(try await browser.evaluate("document.querySelectorAll('b, script').length") == 0)
            #expect(
                try await browser.evaluate(
                    "[...document.querySelectorAll('.diff-added')].map(e => e.textContent)")
                    == ["+new <world> & more"])
            #expect(
                try await browser.evaluate(
                    "[...document.querySelectorAll('.diff-removed')].map(e => e.textContent)")
                    == ["-old <world>"])
            // The run's trace id, to find what every service logged about it.
            let trace = try await browser.evaluate("document.querySelector('#trace').textContent")
            #expect(trace.stringValue?.count == 32, "\(trace)")
            #expect(trace.stringValue == approval.traceID)
            let shown = try await browser.text()
            try await browser.saveScreenshot("approval")
            #expect(shown.contains("patch (run)"), "the run's timeline so far")
            // Its picture, inline: laid out by the browser (the page's CSP lets it in), a bar per attempt.
            let bars = try await browser.evaluate(
                "document.querySelectorAll('svg.run-timeline g.attempt').length")
            #expect((bars.int64Value ?? 0) >= 2, "the patch step's attempt and the approval's")
            #expect(
                try await browser.evaluate(
                    "document.querySelector('svg.run-timeline').getBoundingClientRect().width > 100") == true)

            // The session cookie: the browser holds it, page scripts cannot read it, other sites never send it.
            let session = try #require(try await browser.cookies().first { $0.name == "keel_session" })
            #expect(session.httpOnly)
            #expect(session.sameSite == "Strict")
            #expect(session.value == token)
            #expect(try await browser.evaluate("document.cookie") == "")

            try await browser.fill("#note", "Diff reviewed: the greeting reads well.")
            try await browser.click("#approve")
            try await browser.saveScreenshot("approved")
            #expect(try await browser.text().contains("Your decision (approve) was recorded."))
            #expect(try await browser.evaluate("document.querySelector('#status').textContent") == "approved")
        } catch {
            Issue.record("\(error)\nbrowser log:\n\(browser.log)\n\(stack.logs)")
        }
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)

        let runs = try await stack.waitForFinishedRuns("web-review", count: 1)
        for (run, status) in runs where status != "succeeded" {
            Issue.record("run \(run) \(status): \(try await stack.history(run))\n\(stack.logs)")
        }
        #expect(runs.values.map { $0 } == ["succeeded"])
        let decided = try #require(try await approvals.find(approval.id, for: alice))
        #expect(decided.status == .approved)
        #expect(decided.decisions.count == 1)
        #expect(decided.decisions.first?.approver == "alice")
        #expect(decided.decisions.first?.decision == .approve)
        #expect(decided.decisions.first?.note == "Diff reviewed: the greeting reads well.")
        // The digest of the diff the page showed: the bytes the step stored, `printf`'s newline included.
        #expect(
            decided.decisions.first?.digests == [ContentDigest.sha256Hex(of: Array((Self.diff + "\n").utf8))])
        try await stack.stop()
    }

    @Test func requestingChangesInABrowserSendsTheRunBackAndItsNextApprovalPasses() async throws {
        let (stack, base, token, alice, approvals, first) = try await Self.runWaitingAtReview()

        let browser = try await HeadlessChromium.launch()
        var second: ApprovalRecord?
        do {
            try await browser.open(base + "/sign-in")
            try await browser.fill("#token", token)
            try await browser.click("#sign-in")
            try await browser.open(base + "/approvals/" + first.id)
            #expect(
                try await browser.evaluate("document.querySelector('#request-changes').textContent")
                    == "Request changes (back to patch)")
            try await browser.fill("#note", "Greet the moon too.")
            try await browser.click("#request-changes")
            #expect(try await browser.text().contains("Your decision (request_changes) was recorded."))
            #expect(
                try await browser.evaluate("document.querySelector('#status').textContent")
                    == "changes_requested")

            second = try await Self.firstPending(approvals, for: alice)
            let again = try #require(second, "no second approval was requested:\n\(stack.logs)")
            #expect(again.id != first.id)
            try await browser.open(base + "/approvals/" + again.id)
            try await browser.fill("#note", "Now it is right.")
            try await browser.click("#approve")
            #expect(try await browser.text().contains("Your decision (approve) was recorded."))
        } catch {
            Issue.record("\(error)\nbrowser log:\n\(browser.log)\n\(stack.logs)")
        }
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)

        let runs = try await stack.waitForFinishedRuns("web-review", count: 1)
        #expect(runs.values.map { $0 } == ["succeeded"], "\(stack.logs)")
        let sentBack = try #require(try await approvals.find(first.id, for: alice))
        #expect(sentBack.status == .changesRequested)
        #expect(sentBack.decisions.map(\.decision) == [.requestChanges])
        #expect(sentBack.decisions.first?.note == "Greet the moon too.")
        let secondID = try #require(second?.id)
        let passed = try #require(try await approvals.find(secondID, for: alice))
        #expect(passed.status == .approved)
        #expect(passed.decisions.first?.note == "Now it is right.")
        try await stack.stop()
    }

    /// The real services with a run of `web-review` waiting at its review: the stack, the approval-service's
    /// URL, alice's token and record, the approvals store, and the pending approval.
    static func runWaitingAtReview() async throws -> (
        EngineStack, String, String, APITokenRecord, ApprovalStore, ApprovalRecord
    ) {
        let stack = try await EngineStack(flows: [Self.flow])
        let base = try await stack.startApprovalService()
        let token = try await stack.token("alice")
        let alice = try #require(try await APITokenStore(pool: stack.pool).authenticate(token))
        let input: JSONValue = ["diff": .string(Self.diff), "title": .string(Self.title)]
        try await stack.trigger("web-review", input: input.jsonString())
        let approvals = ApprovalStore(pool: stack.pool, advancer: RunAdvancer(pool: stack.pool))
        let approval = try #require(
            try await Self.firstPending(approvals, for: alice), "no approval was requested:\n\(stack.logs)")
        return (stack, base, token, alice, approvals, approval)
    }

    /// The first pending approval `principal` may see, waiting up to two minutes for the engine to ask.
    static func firstPending(_ approvals: ApprovalStore, for principal: APITokenRecord) async throws
        -> ApprovalRecord?
    {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let approval = try await approvals.list(for: principal, status: .pending).first {
                return approval
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
