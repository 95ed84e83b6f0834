import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// Budgets end to end, with the real trigger-intake, step-executor and approval-service: `run` steps report
/// tokens in their outputs file, the run stops at the budget gate before its next step, an approval through
/// the approval-service raises the limit and lets it finish, and a rejection fails a run as budget_exceeded.
@Suite(.serialized) struct BudgetFlowTests: KeelCLITesting {
    static let flow = """
        flow: agent-budget
        budget:
          tokens: 1000
          raise: {tokens: 2000}
          approvers: ["group:finance"]
        steps:
          - id: patch
            run: {command: [sh, -c, 'printf "{\\"usage\\": {\\"tokens\\": 1200}}" > "$KEEL_OUTPUT"']}
          - id: apply
            needs: [patch]
            run: {command: [sh, -c, 'echo "$KEEL_RUN_ID" >> applied; printf "{\\"usage\\": {\\"tokens\\": 300}}" > "$KEEL_OUTPUT"']}
        """

    func applied(_ file: URL) -> [String] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("A run over its budget waits at a gate that an approval raises and a rejection ends")
    func gate() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let appliedFile = root.appendingPathComponent("applied")
        let stack = try await EngineStack(
            flows: [Self.flow],
            environment: [
                // `apply` appends its run id to `applied` in this working directory: the side effect to watch.
                "KEEL_RUN_PATH": "/usr/bin:/bin", "KEEL_RUN_WORKING_DIR": root.path,
                "KEEL_STEP_ISOLATION": "none",
            ])
        do {
            let client = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
            let fay = try await stack.token("fay", groups: ["finance"])

            try await stack.trigger("agent-budget", input: "{}", key: "a")
            let run = try await stack.runID(key: "a", flow: "agent-budget")
            let gate = try await client.pending(run: run, step: "apply", token: fay)
            let id = try #require(gate["id"] as? String)
            #expect(id == "\(run):budget:1")
            #expect(gate["summary"] as? String == "used 1200 of 1000 tokens: approve 2000 more?")
            #expect(gate["approvers"] as? [String] == ["group:finance"])
            #expect(try await stack.status(run) == "waiting")
            #expect(applied(appliedFile).isEmpty, "the held step's side effect must not happen")

            #expect(try await client.decide(id, "approve", note: "worth it", token: fay).status == 200)
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            #expect(applied(appliedFile) == [run])
            let history = try await stack.history(run)
            #expect(
                history.contains {
                    if case .budgetRaised(1, let limits) = $0.event { limits.tokens == 3000 } else { false }
                })
            try await stack.expectHistoryReplays(run)

            let shown = try await keel(["run", "show", run, "--json"], database: stack.database)
            #expect(shown.status == 0)
            let document = try #require(shown.json as? [String: Any])
            let usage = try #require(document["usage"] as? [String: Any])
            #expect(usage["tokens"] as? Double == 1500)
            #expect((usage["machineMinutes"] as? Double ?? 0) > 0)
            let budget = try #require(document["budget"] as? [String: Any])
            #expect((budget["limits"] as? [String: Any])?["tokens"] as? Double == 3000)

            try await stack.trigger("agent-budget", input: "{}", key: "b")
            let second = try await stack.runID(key: "b", flow: "agent-budget")
            let secondGate = try await client.pending(run: second, step: "apply", token: fay)
            let secondID = try #require(secondGate["id"] as? String)
            #expect(try await client.decide(secondID, "reject", note: "too dear", token: fay).status == 200)
            #expect(try await stack.finish(second, expected: "failed") == "failed")
            let reason = try await stack.history(second).compactMap { fact -> String? in
                if case .runFinished(_, let reason) = fact.event { reason } else { nil }
            }.last
            #expect(RunFailure(reason: reason) == .budgetExceeded)
            #expect(!applied(appliedFile).contains(second))
            try await stack.expectHistoryReplays(second)

            // Two runs each used 1200 tokens before their gate and the first 300 more after it; two gates
            // opened, one approved (in the approval-service), one rejected. Counters are recorded just after
            // the commits above, so scrape until they have caught up.
            let flow = ["flow": "agent-budget"]
            var tokens = 0.0
            var gates: [String: Double] = [:]
            _ = await eventually(within: .seconds(30)) {
                guard let engine = try? await MetricsScrapeTests.scrape(stack).all,
                    let page = await TestHTTP.get(client.url + "/metrics"),
                    let approvals = try? PrometheusScrape(parsing: page.body)
                else { return false }
                let both = engine + approvals
                tokens = both.sum("keel_run_usage_total", flow.merging(["dimension": "tokens"]) { $1 })
                for outcome in ["opened", "approved", "rejected"] {
                    gates[outcome] = both.sum(
                        "keel_budget_gates_total", flow.merging(["outcome": outcome]) { $1 })
                }
                return tokens == 2700 && gates == ["opened": 2, "approved": 1, "rejected": 1]
            }
            #expect(tokens == 2700)
            #expect(gates == ["opened": 2, "approved": 1, "rejected": 1])
        } catch {
            Issue.record("\(error)\n\(stack.logs)")
        }
        try await stack.stop()
    }
}
