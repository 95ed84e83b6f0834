import Foundation
import Testing

@testable import KeelCore

/// Usage where people read it: `keel stats` per flow and per step, and the run picture's usage line and
/// budget gate marks.
@Suite("Budget reports")
struct BudgetReportTests {
    private let flow = """
        flow: agent
        budget:
          tokens: 1000
          money: {amount: 5, currency: EUR}
          approvers: [bob]
        steps:
          - {id: patch, run: {command: [agent]}}
          - id: fan
            needs: [patch]
            map: {over: "${{ input.shards }}"}
            run: {command: [agent]}
        """

    /// Patch spends 1200 tokens and 0.5 EUR; the gate before `fan[0]` is approved by bob; each element spends
    /// 100 tokens.
    private func approvedRun() throws -> RunTimeline {
        var run = try EngineHarness(flow)
        run.trigger(input: ["shards": [1, 2]])
        run.start("patch")
        run.feed(.usageRecorded(step: "patch", attempt: 1, usage: Usage(tokens: 1200, money: 0.5)))
        run.succeed("patch")
        let gate = try #require(run.state.budgetGate)
        #expect(gate.step == "fan[0]")
        run.advance(ms: 5000)
        run.feed(
            .approvalDecided(
                step: gate.step, approvalID: gate.approvalID, decision: .approve, actor: "bob", note: nil)
        )
        for element in ["fan[0]", "fan[1]"] {
            run.start(element)
            run.feed(.usageRecorded(step: element, attempt: 1, usage: Usage(tokens: 100)))
            run.succeed(element)
        }
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
        return try RunTimeline(flow: run.reducer.flow, history: run.history)
    }

    /// A second run whose gate is rejected.
    private func rejectedRun() throws -> RunTimeline {
        var run = try EngineHarness(flow)
        run.trigger(input: ["shards": [1]])
        run.start("patch")
        run.feed(.usageRecorded(step: "patch", attempt: 1, usage: Usage(tokens: 1000)))
        run.succeed("patch")
        let gate = try #require(run.state.budgetGate)
        run.feed(
            .approvalDecided(
                step: gate.step, approvalID: gate.approvalID, decision: .reject, actor: "bob", note: nil))
        #expect(run.state.outcome == .failed)
        run.checkHistory()
        var timeline = try RunTimeline(flow: run.reducer.flow, history: run.history)
        timeline.runID = .fixture(2)
        return timeline
    }

    @Test("keel stats sums usage per flow and per step, elements under their step, and counts gates")
    func stats() throws {
        let stats = RunStatistics(runs: [try approvedRun(), try rejectedRun()], releases: [])
        #expect(stats.usage.tokens == 2400)
        #expect(stats.usage.money == 0.5)
        let flow = try #require(stats.flows.first)
        #expect(stats.flows.count == 1)
        #expect(flow.flow == "agent" && flow.runs == 2 && flow.currency == "EUR")
        #expect(flow.usage.tokens == 2400)
        #expect(flow.budgetGates == 2 && flow.budgetGatesApproved == 1 && flow.budgetGatesRejected == 1)
        let perStep = Dictionary(uniqueKeysWithValues: stats.steps.map { ($0.step, $0.usage) })
        #expect(perStep["patch"] == Usage(tokens: 2200, money: 0.5))
        #expect(perStep["fan"] == Usage(tokens: 200))

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(stats), as: UTF8.self)
        #expect(json.contains(#""usage":{"machineMinutes":0,"money":0.5,"tokens":2400}"#))
        #expect(json.contains(#""budgetGates":2,"budgetGatesApproved":1,"budgetGatesRejected":1"#))
    }

    @Test("The run picture shows the usage under the title and marks each budget gate")
    func picture() throws {
        let svg = RunTimelineSVG.render(try approvedRun())
        #expect(svg.contains(#"<text class="usage""#))
        #expect(svg.contains("usage: 1400 of 2000 tokens, 0.5 of 10 EUR"))
        #expect(svg.contains(#"<g class="budget-gate">"#))
        #expect(svg.contains("budget gate 1 before fan[0]: used 1200 of 1000 tokens"))
        #expect(svg.contains("approved by bob at +5.000s"))
        #expect(svg.contains(">budget gate</text>"))

        let free = try EngineHarness("flow: free\nsteps:\n  - {id: a, noop: {}}\n")
        var run = free
        run.trigger()
        run.complete("a")
        let plain = RunTimelineSVG.render(try RunTimeline(flow: run.reducer.flow, history: run.history))
        #expect(!plain.contains("class=\"usage\""))
        #expect(!plain.contains("budget-gate"))
    }
}
