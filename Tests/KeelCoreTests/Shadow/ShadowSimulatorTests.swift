import Foundation
import Testing

@testable import KeelCore

@Suite("Shadow runs")
struct ShadowSimulatorTests {
    static let released = """
        flow: ship
        steps:
          - id: build
            run:
              command: [make, build, "${{ input.branch }}"]
              env: {TOKEN: "${{ secrets.DEPLOY_TOKEN }}"}
          - id: test
            needs: [build]
            run: {command: [make, test]}
            retry: {max_attempts: 3, backoff: fixed, initial: 1s, jitter: false, on: [transient]}
          - id: review
            needs: [test]
            approval: {approvers: ["group:reviewers"], summary: "ship ${{ input.branch }}"}
          - id: deploy
            needs: [review]
            if: "${{ steps.test.outputs.ok == true }}"
            run: {command: [./deploy.sh, "${{ input.branch }}"]}
        """

    /// Runs `released` for real through the reducer: build, test (one transient failure, then a
    /// success with `ok: true`), the review decided as `decision`, deploy when reached.
    static func recordedRun(
        _ yaml: String = released, decision: StepContext.Decision = .approve
    ) throws -> ShadowRecording {
        var run = try EngineHarness(yaml)
        run.trigger(input: ["branch": "main"])
        run.complete("build", outputs: ["artifact": "a.tgz"])
        run.start("test")
        run.fail("test", .transient)
        run.fire(.retry(step: "test", attempt: 2))
        run.complete("test", outputs: ["ok": true])
        run.feed(
            .approvalDecided(
                step: "review", approvalID: run.step("review").approvalID ?? "", decision: decision,
                actor: "bob", note: nil))
        if run.state.steps["deploy"]?.status == .scheduled { run.complete("deploy") }
        #expect(run.state.outcome != nil)
        return ShadowRecording(flow: run.reducer.flow, version: 1, facts: run.history)
    }

    static func shadow(_ recording: ShadowRecording, against yaml: String) throws -> ShadowRunReport {
        ShadowSimulator(flow: try FlowTest.parse(yaml), version: 2).shadow(recording)
    }

    static func step(_ report: ShadowRunReport, _ id: String) -> ShadowStepReport? {
        report.steps.first { $0.step == id }
    }

    @Test("An identical flow shows no differences and ends as the recorded run did")
    func identicalFlow() throws {
        let report = try Self.shadow(try Self.recordedRun(), against: Self.released)
        #expect(report.differences.isEmpty)
        #expect(report.liveOutcome == "succeeded")
        #expect(report.shadowOutcome == "succeeded")
        #expect(report.steps.map(\.shadow) == report.steps.map(\.live))
        // The recorded retry of `test` was replayed too: the shadow reached attempt 2 and succeeded.
        #expect(Self.step(report, "test")?.shadow.status == "succeeded")
    }

    @Test("A changed command is reported and its dependants are not reached")
    func changedCommand() throws {
        let changed = Self.released.replacingOccurrences(
            of: "command: [make, test]", with: "command: [make, test, --all]")
        let report = try Self.shadow(try Self.recordedRun(), against: changed)
        #expect(report.differences.map(\.step) == ["test", "review", "deploy"])
        let test = try #require(Self.step(report, "test"))
        #expect(test.difference == .actionChanged)
        #expect(test.definition == .changed)
        #expect(test.liveAction?["command"] == ["make", "test"])
        #expect(test.shadowAction?["command"] == ["make", "test", "--all"])
        #expect(test.shadow.status == ShadowStepPath.notExecuted)
        #expect(!test.unexplained)
        for id in ["review", "deploy"] {
            let dependant = try #require(Self.step(report, id))
            #expect(dependant.difference == .outputsUnknown)
            #expect(dependant.waitingOn == ["test"])
            #expect(dependant.shadow.path == .notReached)
            #expect(dependant.live.path == .reached)
            #expect(!dependant.unexplained)
        }
        #expect(Self.step(report, "build")?.difference == ShadowStepReport.Difference.none)
        #expect(report.shadowOutcome == "incomplete")
    }

    @Test("A new step is reported with its rendering and never executed")
    func newStep() throws {
        let added =
            Self.released + """

                  - id: announce
                    needs: [deploy]
                    http: {method: POST, url: "https://chat.example/hooks", body: {text: "shipped ${{ input.branch }}"}}
                """
        let report = try Self.shadow(try Self.recordedRun(), against: added)
        #expect(report.differences.map(\.step) == ["announce"])
        let announce = try #require(Self.step(report, "announce"))
        #expect(announce.difference == .new)
        #expect(announce.definition == .added)
        #expect(announce.live.path == .absent)
        #expect(announce.shadow.status == ShadowStepPath.notExecuted)
        #expect(announce.shadowAction?["body"] == ["text": "shipped main"])
        #expect(announce.shadowAction?["url"] == "https://chat.example/hooks")
        #expect(report.shadowOutcome == "incomplete")
    }

    @Test("A removed step is reported with the path it took in the recorded run")
    func removedStep() throws {
        let removed = try #require(Self.released.components(separatedBy: "  - id: deploy").first)
        let report = try Self.shadow(try Self.recordedRun(), against: removed)
        #expect(report.differences.map(\.step) == ["deploy"])
        let deploy = try #require(Self.step(report, "deploy"))
        #expect(deploy.difference == .removed)
        #expect(deploy.live.status == "succeeded")
        #expect(deploy.shadow.path == .absent)
        #expect(report.shadowOutcome == "succeeded")
    }

    @Test(
        "A changed condition that decides differently shows the step skipped in one run and reached in the other"
    )
    func changedCondition() throws {
        let changed = Self.released.replacingOccurrences(
            of: "steps.test.outputs.ok == true", with: "steps.test.outputs.ok == false")
        let report = try Self.shadow(try Self.recordedRun(), against: changed)
        #expect(report.differences.map(\.step) == ["deploy"])
        let deploy = try #require(Self.step(report, "deploy"))
        #expect(deploy.difference == .conditionChanged)
        #expect(deploy.live.path == .reached)
        #expect(deploy.shadow.path == .skipped)
        #expect(deploy.shadow.reason?.hasPrefix("if:") == true)
        #expect(!deploy.unexplained)
        #expect(report.shadowOutcome == "succeeded")
    }

    @Test("A condition that decides differently because of an upstream change is unexplained")
    func upstreamConditionIsUnexplained() throws {
        let flow = """
            flow: ship
            steps:
              - id: build
                run: {command: [make]}
              - id: docs
                needs: [build]
                if: "${{ input.docs == true }}"
                run: {command: [make, docs]}
              - id: publish
                needs: [docs]
                if: "${{ steps.docs.status == 'succeeded' }}"
                run: {command: [publish]}
            """
        var run = try EngineHarness(flow)
        run.trigger(input: ["docs": true])
        run.complete("build")
        run.complete("docs")
        run.complete("publish")
        let recording = ShadowRecording(flow: run.reducer.flow, version: 1, facts: run.history)
        let changed = flow.replacingOccurrences(of: "input.docs == true", with: "input.docs == false")
        let report = try Self.shadow(recording, against: changed)
        #expect(Self.step(report, "docs")?.difference == .conditionChanged)
        #expect(Self.step(report, "docs")?.unexplained == false)
        let publish = try #require(Self.step(report, "publish"))
        #expect(publish.difference == .conditionChanged)
        #expect(publish.definition == .unchanged)
        #expect(publish.unexplained)
        #expect(report.unexplained.map(\.step) == ["publish"])
    }

    @Test("Approvals take the recorded decisions")
    func approvalsTakeRecordedDecisions() throws {
        let rejected = try Self.recordedRun(decision: .reject)
        let same = try Self.shadow(rejected, against: Self.released)
        #expect(same.differences.isEmpty)
        #expect(Self.step(same, "review")?.shadow.status == "failed")
        #expect(Self.step(same, "deploy")?.shadow.path == .skipped)
        #expect(same.shadowOutcome == "failed")

        let approved = try Self.shadow(try Self.recordedRun(), against: Self.released)
        #expect(Self.step(approved, "review")?.shadow.status == "succeeded")
        #expect(Self.step(approved, "deploy")?.shadow.status == "succeeded")
    }

    @Test("A changed approval summary holds the decision back")
    func changedApprovalSummary() throws {
        let changed = Self.released.replacingOccurrences(of: "summary: \"ship ", with: "summary: \"deploy ")
        let report = try Self.shadow(try Self.recordedRun(), against: changed)
        let review = try #require(Self.step(report, "review"))
        #expect(review.difference == .actionChanged)
        #expect(review.liveAction?["summary"] == "ship main")
        #expect(review.shadowAction?["summary"] == "deploy main")
        #expect(Self.step(report, "deploy")?.difference == .outputsUnknown)
    }

    @Test("Secrets render as placeholders and never as values")
    func secretsArePlaceholders() throws {
        let changed = Self.released.replacingOccurrences(
            of: "command: [make, build, ", with: "command: [make, release, ")
        let report = try Self.shadow(try Self.recordedRun(), against: changed)
        let build = try #require(Self.step(report, "build"))
        #expect(build.difference == .actionChanged)
        #expect(build.liveAction?["env"] == ["TOKEN": "«secret:DEPLOY_TOKEN»"])
        #expect(build.shadowAction?["env"] == ["TOKEN": "«secret:DEPLOY_TOKEN»"])

        // Even where a secret would resolve, the shadow's rendering never asks for it.
        let step = try #require(try FlowTest.parse(Self.released).step("build"))
        var context = ExpressionContext(
            run: RunContext(id: "r", flow: "ship", version: 1, correlationID: "c"))
        context.secretResolver = { _ in "s3cr3t-value" }
        let rendered = RenderedAction.dispatched(step, context: context)
        #expect(rendered.json["env"] == ["TOKEN": "«secret:DEPLOY_TOKEN»"])
        #expect(!rendered.summary.contains("s3cr3t-value"))
    }

    @Test("The report's JSON has every documented key")
    func reportJSON() throws {
        let changed = Self.released.replacingOccurrences(
            of: "command: [make, test]", with: "command: [make, test, --all]")
        let recording = try Self.recordedRun()
        let report = ShadowReport(
            flow: "ship", version: 2, candidate: try FlowTest.parse(changed), recordings: [recording])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try JSONValue(parsing: Array(try encoder.encode(report)))
        #expect(json["definition_changes"]?[0]?["changed"] == ["test"])
        #expect(json["totals"]?["runs"] == 1)
        #expect(json["totals"]?["runs_with_unexplained_differences"] == 0)
        #expect(json["totals"]?["steps"]?[0]?["step"] == "test")
        let test = json["runs"]?[0]?["steps"]?[1]
        #expect(test?["difference"] == "action_changed")
        #expect(test?["live_action"]?["kind"] == "run")
        #expect(test?["waiting_on"] == [])
        #expect(json["runs"]?[0]?["steps"]?[0]?["live_action"] == .null)
        #expect(!report.hasUnexplainedDifferences)
    }

    @Test("The example change in Examples/shadow-a-change shadows as its README says")
    func exampleChange() throws {
        var run = try EngineHarness(try FlowTest.example("shadow-a-change/release-notes.yaml"))
        run.trigger(input: ["tag": "v1.4.1", "announce": false])
        run.complete("collect")
        run.complete("render", outputs: ["notes": "Fixes and features"])
        run.complete("publish")
        #expect(run.state.outcome == .succeeded)
        let changed = try FlowTest.parse(try FlowTest.example("shadow-a-change/release-notes.changed.yaml"))
        let report = ShadowSimulator(flow: changed, version: 2).shadow(
            ShadowRecording(flow: run.reducer.flow, version: 1, facts: run.history))
        #expect(report.differences.map(\.step) == ["render", "publish", "announce"])
        #expect(report.differences.map(\.difference) == [.actionChanged, .outputsUnknown, .outputsUnknown])
        #expect(Self.step(report, "render")?.shadowAction?["command"]?[1] == "--changelog")
        #expect(Self.step(report, "announce")?.live.reason == "if: condition is false")
        #expect(report.unexplained.isEmpty)
    }
}
