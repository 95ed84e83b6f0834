import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Approval gates end to end (DESIGN invariant 6), with the real trigger-intake, step-executor and
/// approval-service on PostgreSQL and RabbitMQ: the safe-code-change example waits at its review until an
/// approver decides over HTTP, and nothing but an authorised approver's `approve` lets a run through.
@Suite(.serialized) struct ApprovalFlowTests {
    /// A stand-in for the team's tools on the executor: `agent` writes `patch.diff` (its last line says
    /// which round of changes it is), `make test` passes, `./apply.sh` records what it applied.
    struct Checkout {
        let root: URL
        var bin: URL { root.appendingPathComponent("bin") }
        var directory: URL { root.appendingPathComponent("checkout") }
        var changeRequests: URL { root.appendingPathComponent("change-requests") }
        var applied: URL { root.appendingPathComponent("applied") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "keel-approvals-\(UUID().uuidString)")
            let files = FileManager.default
            try files.createDirectory(
                at: root.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try files.createDirectory(
                at: root.appendingPathComponent("checkout"), withIntermediateDirectories: true)
            try Self.script(
                bin.appendingPathComponent("agent"),
                """
                round=$(printf '%s' "${KEEL_CHANGE_REQUEST:-}" | sed -n 's/.*"round":\\([0-9]*\\).*/\\1/p')
                printf -- '--- a/app.txt\\n+++ b/app.txt\\n@@ -1 +1 @@\\n-old\\n+%s (round %s)\\n' "$2" "${round:-0}" > patch.diff
                printf '%s %s\\n' "$KEEL_RUN_ID" "${KEEL_CHANGE_REQUEST:-none}" >> '\(changeRequests.path)'
                """)
            try Self.script(bin.appendingPathComponent("make"), "exit 0")
            try Self.script(
                directory.appendingPathComponent("apply.sh"),
                "printf '%s %s\\n' \"$KEEL_RUN_ID\" \"$1\" >> '\(applied.path)'")
        }

        static func script(_ file: URL, _ body: String) throws {
            try ("#!/bin/sh\nset -eu\n" + body + "\n").write(to: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        }

        /// What the executor needs to find these tools: a PATH and a working directory for `run` steps.
        var environment: [String: String] {
            [
                "KEEL_RUN_PATH": bin.path + ":/usr/bin:/bin", "KEEL_RUN_WORKING_DIR": directory.path,
                // The fixture's checkout is root's and shared by every attempt (docs/security.md: a shared
                // working directory must be writable by the step uids); isolation has its own tests.
                "KEEL_STEP_ISOLATION": "none",
            ]
        }

        func lines(_ file: URL) -> [String] {
            ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    /// Examples/safe-code-change.yaml as it is, minus its `bench` step (an `ssh` job and
    /// its callback, tested in CallbackFlowTests): `apply` follows the review directly.
    static func safeCodeChange(name: String = "safe-code-change", review: [String: String] = [:]) throws
        -> String
    {
        let url = TestEnvironment.packageRoot.appendingPathComponent("Examples/safe-code-change.yaml")
        var yaml = try String(contentsOf: url, encoding: .utf8)
        let bench = try #require(yaml.range(of: "  - id: bench\n"))
        let apply = try #require(yaml.range(of: "  - id: apply\n"))
        yaml.removeSubrange(bench.lowerBound..<apply.lowerBound)
        for (old, new) in [
            ("    needs: [bench]\n", "    needs: [review]\n"),
            ("    if: \"${{ steps.bench.status == 'succeeded' }}\"\n", ""),
            ("flow: safe-code-change\n", "flow: \(name)\n"),
        ] + review.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) {
            let range = try #require(yaml.range(of: old), "the example no longer has \(old)")
            yaml.replaceSubrange(range, with: new)
        }
        return yaml
    }

    /// Two gates on the same diff: when security sends the run back to `patch`, the pending code review
    /// is void and asked again about the regenerated diff.
    static let twoGates = """
        flow: two-gates
        steps:
          - id: patch
            run: {command: [agent, --task, "${{ input.task }}"]}
            outputs: {diff: {resource: patch.diff, type: text/x-diff}}
          - id: review
            needs: [patch]
            approval: {approvers: ["group:reviewers"], bind: ["${{ steps.patch.outputs.diff }}"]}
          - id: security
            needs: [patch]
            approval:
              approvers: ["group:security"]
              bind: ["${{ steps.patch.outputs.diff }}"]
              request_changes: {step: patch, max_rounds: 1}
          - id: apply
            needs: [review, security]
            run: {command: [./apply.sh, "${{ steps.patch.outputs.diff }}"]}
        """

    struct Client {
        let url: String

        func get(_ path: String, token: String) async throws -> TestHTTP.Answer {
            try await TestHTTP.send("GET", url + path, headers: ["Authorization": "Bearer " + token])
        }

        func decide(
            _ id: String, _ decision: String, note: String? = nil, digests: [String]? = nil, token: String
        )
            async throws -> TestHTTP.Answer
        {
            var body: [String: Any] = ["decision": decision]
            if let note { body["note"] = note }
            if let digests { body["digests"] = digests }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            return try await TestHTTP.send(
                "POST", url + "/v1/approvals/\(id)/decision", headers: ["Authorization": "Bearer " + token],
                body: text)
        }

        /// Waits until `token` sees a pending approval of `run` at `step`; returns it as JSON.
        func pending(run: String, step: String, token: String, timeout: Duration = .seconds(120)) async throws
            -> [String: Any]
        {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let approvals = try await get("/v1/approvals?status=pending", token: token).json?["approvals"]
                for case let approval as [String: Any] in approvals as? [Any] ?? []
                where approval["run_id"] as? String == run && approval["step"] as? String == step {
                    return approval
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("no pending approval of \(run) at \(step)")
            throw CancellationError()
        }
    }

    /// Starts the stack with the example and a checkout, runs `body`, and stops everything.
    func withStack(flows: [String], _ body: (EngineStack, Client, Checkout) async throws -> Void) async throws
    {
        let checkout = try Checkout()
        defer { try? FileManager.default.removeItem(at: checkout.root) }
        let stack = try await EngineStack(flows: flows, environment: checkout.environment)
        do {
            let client = Client(url: try await stack.startApprovalService())
            try await body(stack, client, checkout)
        } catch {
            Issue.record("\(error)\n\(stack.logs)")
        }
        try await stack.stop()
    }

    @Test func theExampleWaitsAtReviewAndOnlyAnAuthorisedApproverLetsItThrough() async throws {
        try await withStack(flows: [try Self.safeCodeChange()]) { stack, client, checkout in
            let rui = try await stack.token("rui", groups: ["reviewers"])
            let rita = try await stack.token("rita", groups: ["reviewers"])
            let olga = try await stack.token("olga", groups: ["finance"])
            let oscar = try await stack.token("oscar", role: .operator)

            try await stack.trigger(
                "safe-code-change", input: #"{"repo": "shop", "task": "fix the cart total"}"#, key: "a")
            let run = try await stack.runID(key: "a", flow: "safe-code-change")
            let approval = try await client.pending(run: run, step: "review", token: rui)
            let id = try #require(approval["id"] as? String)
            #expect(approval["summary"] as? String == "Apply the agent's patch for: fix the cart total")
            // The stack publishes with its own broker account's user-id: that account, not the body's actor.
            #expect(approval["requester"] as? String == "amqp:keel")
            #expect(approval["approvers"] as? [String] == ["group:reviewers"])
            let bound = try #require((approval["bound"] as? [[String: Any]])?.first)
            #expect(bound["type"] as? String == "text/x-diff")
            let digests = try #require(approval["digests"] as? [String])
            #expect((bound["$resource"] as? String) == "res:sha256:" + (digests.first ?? "-"))
            #expect(try await stack.status(run) == "waiting")

            // The page's detail: the approval with the run's timeline so far.
            let shown = try await client.get("/v1/approvals/\(id)", token: rui)
            #expect(shown.status == 200)
            let timeline = try #require(shown.json?["timeline"] as? [String: Any])
            #expect(timeline["runID"] as? String == run)

            // Outsiders learn nothing: the same answer as for an approval that does not exist.
            let hidden = try await client.get("/v1/approvals/\(id)", token: olga)
            let missing = try await client.get("/v1/approvals/\(run):nothing:1:approval", token: olga)
            #expect(hidden.status == 404 && missing.status == 404)
            #expect(hidden.body == missing.body)
            let listedToOutsider =
                try await client.get("/v1/approvals", token: olga).json?["approvals"] as? [Any]
            #expect(listedToOutsider?.isEmpty == true)
            #expect(try await client.decide(id, "approve", token: olga).status == 404)
            // An operator sees it but is not an approver.
            let refused = try await client.decide(id, "approve", token: oscar)
            #expect(refused.status == 403)
            #expect(refused.headers["content-type"] == "application/problem+json")
            #expect(refused.json?["type"] as? String == "/problems/not-an-approver")
            // No token, a forged token, a malformed body.
            let anonymous = try await TestHTTP.send(
                "POST", client.url + "/v1/approvals/\(id)/decision", body: "{}")
            #expect(anonymous.status == 401)
            let forged = try await client.decide(
                id, "approve", token: "keel_0123456789abcdef_" + String(repeating: "A", count: 43))
            #expect(forged.status == 401)
            let malformed = try await TestHTTP.send(
                "POST", client.url + "/v1/approvals/\(id)/decision",
                headers: ["Authorization": "Bearer " + rui],
                body: #"{"decision": "maybe"}"#)
            #expect(malformed.status == 422)
            #expect(
                (malformed.json?["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/decision")
            let notJSON = try await TestHTTP.send(
                "POST", client.url + "/v1/approvals/\(id)/decision",
                headers: ["Authorization": "Bearer " + rui],
                body: "decision=approve")
            #expect(notJSON.status == 400)
            #expect(notJSON.json?["type"] as? String == "/problems/malformed-body")
            let noNote = try await client.decide(id, "reject", token: rui)
            #expect(noNote.status == 422)
            #expect((noNote.json?["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/note")
            #expect(try await stack.status(run) == "waiting")

            // Two reviewers approve at the same moment: one decision, one 409.
            async let first = client.decide(id, "approve", note: "looks right", digests: digests, token: rui)
            async let second = client.decide(id, "approve", note: "ship it", digests: digests, token: rita)
            let answers = try await [first, second]
            #expect(answers.map(\.status).sorted() == [200, 409], "\(answers.map(\.body))")
            #expect(
                answers.first { $0.status == 409 }?.json?["type"] as? String == "/problems/approval-closed")

            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let decisions = try await stack.pool.withConnection { connection in
                try await connection.query(
                    "SELECT approver FROM approval_decisions WHERE approval_id = \(id)"
                )
                .map { try $0.decode((String).self) }
            }
            #expect(decisions.count == 1)
            let decided = try await stack.history(run).filter { $0.event.kind == "approval.decided" }
            #expect(decided.count == 1)
            #expect(decided.first?.event.actor == decisions.first)
            #expect(checkout.lines(checkout.applied).filter { $0.hasPrefix(run) }.count == 1)
            try await stack.expectHistoryReplays(run)

            // What the service measured: one accepted decision, one settled gate's turnaround, none pending.
            let metrics = try await TestHTTP.send("GET", client.url + "/metrics").body
            let series = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(series.contains(#"keel_approval_decisions_total{decision="approve"} 1"#), "\(metrics)")
            #expect(
                series.contains {
                    $0.hasPrefix(#"keel_approval_turnaround_seconds_count{flow="safe-code-change"} 1"#)
                },
                "\(metrics)")
            #expect(series.contains { $0.hasPrefix("keel_approvals_pending ") }, "\(metrics)")
        }
    }

    @Test func theRequesterRejectionAndRequestChangesEachTakeTheirPath() async throws {
        try await withStack(flows: [try Self.safeCodeChange()]) { stack, client, checkout in
            let rui = try await stack.token("rui", groups: ["reviewers"])
            let rita = try await stack.token("rita", groups: ["reviewers"])

            // rui triggered this run with broker credentials of their own, claiming in the body to be
            // rita: the requester is who the broker authenticated, so rui's own approval is refused.
            let ruiPublishes = try await stack.publisher(for: "rui")
            try await stack.trigger(
                "safe-code-change", input: #"{"repo": "own", "task": "t"}"#, key: "own", actor: "rita",
                as: .account(url: ruiPublishes))
            let own = try await stack.runID(key: "own", flow: "safe-code-change")
            let ownApproval = try await client.pending(run: own, step: "review", token: rui)
            let ownID = try #require(ownApproval["id"] as? String)
            let selfApproval = try await client.decide(ownID, "approve", token: rui)
            #expect(selfApproval.status == 403)
            #expect(selfApproval.json?["type"] as? String == "/problems/own-run")

            // A trigger whose publisher did not authenticate itself (no user-id): a gate that forbids
            // self-approval cannot tell its requester from anyone, so nobody may approve it.
            try await stack.trigger(
                "safe-code-change", input: #"{"repo": "anon", "task": "t"}"#, key: "anon", actor: "rita",
                as: .unauthenticated)
            let anonymous = try await stack.runID(key: "anon", flow: "safe-code-change")
            let anonymousID = try #require(
                try await client.pending(run: anonymous, step: "review", token: rita)["id"] as? String)
            let unauthenticated = try await client.decide(anonymousID, "approve", token: rita)
            #expect(unauthenticated.status == 403)
            #expect(unauthenticated.json?["type"] as? String == "/problems/requester-unauthenticated")
            let cleanup = try await client.decide(anonymousID, "reject", note: "unauthenticated", token: rita)
            #expect(cleanup.status == 200, "a rejection still counts")

            // Reject: the review fails, apply never runs, the run fails.
            try await stack.trigger("safe-code-change", input: #"{"repo": "rej", "task": "t"}"#, key: "rej")
            let rejected = try await stack.runID(key: "rej", flow: "safe-code-change")
            let rejectID = try #require(
                try await client.pending(run: rejected, step: "review", token: rui)["id"] as? String)
            #expect(
                try await client.decide(rejectID, "reject", note: "wrong approach", token: rita).status == 200
            )
            #expect(try await stack.finish(rejected, expected: "failed") == "failed")
            #expect(checkout.lines(checkout.applied).contains { $0.hasPrefix(rejected) } == false)

            // Request changes: the note goes back to patch, which regenerates the diff; then approval passes.
            try await stack.trigger("safe-code-change", input: #"{"repo": "loop", "task": "t"}"#, key: "loop")
            let looped = try await stack.runID(key: "loop", flow: "safe-code-change")
            let firstRound = try await client.pending(run: looped, step: "review", token: rui)
            let firstID = try #require(firstRound["id"] as? String)
            let changes = try await client.decide(
                firstID, "request_changes", note: "also handle refunds", token: rita)
            #expect(changes.status == 200, "\(changes.body)")
            let secondRound = try await client.pending(run: looped, step: "review", token: rui)
            let secondID = try #require(secondRound["id"] as? String)
            #expect(secondID != firstID)
            #expect(secondRound["digests"] as? [String] != firstRound["digests"] as? [String])
            let requests = checkout.lines(checkout.changeRequests).filter { $0.hasPrefix(looped) }
            #expect(requests.count == 2)
            #expect(requests.last?.contains("also handle refunds") == true)
            #expect(requests.last?.contains(#""actor":"rita""#) == true)
            #expect(try await client.decide(secondID, "approve", note: "good now", token: rui).status == 200)
            #expect(try await stack.finish(looped, expected: "succeeded") == "succeeded")
            // The first round's approval took its one decision and no more.
            #expect(try await client.decide(firstID, "approve", token: rui).status == 409)

            // The requester may still see their run approved by someone else.
            #expect(try await client.decide(ownID, "approve", token: rita).status == 200)
            #expect(try await stack.finish(own, expected: "succeeded") == "succeeded")
            for run in [own, rejected, looped] { try await stack.expectHistoryReplays(run) }
        }
    }

    @Test func aRegeneratedDiffVoidsThePendingApproval() async throws {
        try await withStack(flows: [Self.twoGates]) { stack, client, _ in
            let rui = try await stack.token("rui", groups: ["reviewers"])
            let sam = try await stack.token("sam", groups: ["security"])
            try await stack.trigger("two-gates", input: #"{"task": "t"}"#, key: "g")
            let run = try await stack.runID(key: "g", flow: "two-gates")
            let review = try await client.pending(run: run, step: "review", token: rui)
            let reviewID = try #require(review["id"] as? String)
            let security = try await client.pending(run: run, step: "security", token: sam)
            let securityID = try #require(security["id"] as? String)

            #expect(
                try await client.decide(securityID, "request_changes", note: "no secrets in logs", token: sam)
                    .status
                    == 200)
            // The review was about the old diff: it is void, and asked again about the new one.
            let again = try await client.pending(run: run, step: "review", token: rui)
            #expect(again["id"] as? String != reviewID)
            #expect(again["digests"] as? [String] != review["digests"] as? [String])
            let old =
                try await client.get("/v1/approvals/\(reviewID)", token: rui).json?["approval"]
                as? [String: Any]
            #expect(old?["status"] as? String == "void")
            #expect((old?["closed_reason"] as? String)?.contains("went back") == true)
            let late = try await client.decide(reviewID, "approve", token: rui)
            #expect(late.status == 409)
            #expect(late.json?["type"] as? String == "/problems/approval-closed")
            // Approving with the digests of the old diff is refused too.
            let stale = try await client.decide(
                try #require(again["id"] as? String), "approve", digests: review["digests"] as? [String],
                token: rui)
            #expect(stale.status == 409)
            #expect(stale.json?["type"] as? String == "/problems/bound-artifacts-changed")

            #expect(
                try await client.decide(try #require(again["id"] as? String), "approve", token: rui).status
                    == 200)
            let securityAgain = try await client.pending(run: run, step: "security", token: sam)
            #expect(
                try await client.decide(try #require(securityAgain["id"] as? String), "approve", token: sam)
                    .status == 200)
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            try await stack.expectHistoryReplays(run)
        }
    }

    @Test func theTimeoutDecidesWhenNobodyDoes() async throws {
        let quick = try Self.safeCodeChange(
            name: "quick-review",
            review: [
                "      timeout: 24h\n": "      timeout: 2s\n", "      reminder: 4h\n": "      reminder: 1s\n",
            ])
        try await withStack(flows: [quick]) { stack, client, checkout in
            let rui = try await stack.token("rui", groups: ["reviewers"])
            try await stack.channel.declareQueue(
                "approval-events-\(stack.vhost.name)", durable: false, autoDelete: false)
            try await stack.channel.bindQueue(
                "approval-events-\(stack.vhost.name)", exchange: "keel.events", routingKey: "approval.#")
            try await stack.trigger("quick-review", input: #"{"repo": "r", "task": "t"}"#, key: "q")
            let run = try await stack.runID(key: "q", flow: "quick-review")
            #expect(try await stack.finish(run, expected: "failed") == "failed")
            let closed =
                try await client.get("/v1/approvals?status=all", token: rui).json?["approvals"]
                as? [[String: Any]]
            let approval = try #require(closed?.first { $0["run_id"] as? String == run })
            #expect(approval["status"] as? String == "timed_out")
            let late = try await client.decide(try #require(approval["id"] as? String), "approve", token: rui)
            #expect(late.status == 409)
            #expect(checkout.lines(checkout.applied).contains { $0.hasPrefix(run) } == false)
            var events: [String] = []
            while let delivery = try await stack.channel.get(queue: "approval-events-\(stack.vhost.name)") {
                events.append(delivery.routingKey)
            }
            #expect(events.contains("approval.requested.quick-review"))
            #expect(events.contains("approval.reminder.quick-review"))
            #expect(events.contains("approval.decided.quick-review"))
            try await stack.expectHistoryReplays(run)
        }
    }
}
