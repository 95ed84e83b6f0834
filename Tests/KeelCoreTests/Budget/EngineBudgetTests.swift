import Testing

@testable import KeelCore

/// The budget gate in the reducer: opened when a step that costs would begin with a limit used up, decided
/// by an approval that raises the limit or fails the run, and replayed to the same state.
@Suite("Engine: budgets")
struct EngineBudgetTests {
    private let flow = """
        flow: agent
        budget:
          tokens: 1000
          raise: {tokens: 500}
          approvers: [bob]
        steps:
          - {id: patch, run: {command: [agent]}}
          - {id: test, needs: [patch], run: {command: [make, test]}}
          - {id: report, needs: [test], noop: {}}
        """

    private func spend(_ run: inout EngineHarness, _ step: String, tokens: Double) {
        run.feed(.usageRecorded(step: step, attempt: run.step(step).attempt, usage: Usage(tokens: tokens)))
    }

    private var gateID: String { "0193a1b2-0000-7000-8000-000000000001:budget:1" }

    @Test("Usage under the limit lets the next step start")
    func underTheLimit() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 999)
        run.succeed("patch")
        #expect(run.dispatched == ["test"])
        #expect(run.state.budgetGate == nil)
        #expect(run.state.usage.tokens == 999)
        run.checkHistory()
    }

    @Test("A step that would start over the budget waits at a gate")
    func gateOpens() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 600)
        spend(&run, "patch", tokens: 400)
        run.succeed("patch")
        #expect(run.dispatched.isEmpty)
        #expect(run.step("test").status == .pending)
        let gate = try #require(run.state.budgetGate)
        #expect(gate.approvalID == gateID)
        #expect(gate.step == "test")
        #expect(gate.summary == "used 1000 of 1000 tokens: approve 500 more?")
        #expect(
            run.commands.contains(
                .requestApproval(
                    ApprovalRequest(
                        step: "test", attempt: 0, approvalID: gateID, summary: gate.summary, bound: []),
                    requester: "alice", timeoutAt: nil, reminderAt: nil)))
        #expect(run.state.status == .running)
        run.checkHistory()
    }

    @Test("Approving raises the limit by the raise and starts the held step")
    func approvalRaises() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 1200)
        run.succeed("patch")
        #expect(
            run.feed(
                .approvalDecided(
                    step: "test", approvalID: "forged", decision: .approve, actor: "bob", note: nil)
            ).ignored)
        run.feed(
            .approvalDecided(step: "test", approvalID: gateID, decision: .approve, actor: "bob", note: nil))
        #expect(run.state.budgetLimits == UsageLimits(tokens: 1500))
        #expect(run.derivedKinds.contains("budget.raised"))
        #expect(run.dispatched == ["test"])
        #expect(run.state.budgetGate == nil)
        #expect(run.commands.contains(.closeApproval(approvalID: gateID)))
        #expect(
            run.feed(
                .approvalDecided(
                    step: "test", approvalID: gateID, decision: .approve, actor: "bob", note: nil)
            )
            .ignored)
        run.complete("test")
        run.complete("report")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test("An approval that is still not enough opens the next gate at once")
    func stillNotEnough() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 5000)
        run.succeed("patch")
        run.feed(
            .approvalDecided(step: "test", approvalID: gateID, decision: .approve, actor: "bob", note: nil))
        #expect(run.dispatched.isEmpty)
        #expect(run.state.budgetGate?.number == 2)
        #expect(run.state.budgetGate?.approvalID == "0193a1b2-0000-7000-8000-000000000001:budget:2")
        run.checkHistory()
    }

    @Test("Rejecting more budget fails the run as budget_exceeded")
    func rejectionFails() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 1000)
        run.succeed("patch")
        run.feed(
            .approvalDecided(
                step: "test", approvalID: gateID, decision: .reject, actor: "bob", note: "too dear"))
        #expect(run.state.status == .finished)
        #expect(run.state.outcome == .failed)
        #expect(RunFailure(reason: run.state.finishReason) == .budgetExceeded)
        #expect(run.state.finishReason == "budget_exceeded: more budget was refused by bob")
        #expect(run.step("test").status == .cancelled)
        #expect(run.step("patch").status == .succeeded)
        #expect(run.dispatched.isEmpty)
        run.checkHistory()
    }

    @Test("A running step that overshoots finishes; the gate comes before the next one")
    func overshootFinishes() throws {
        let parallel = """
            flow: agent
            budget: {tokens: 100, approvers: [bob]}
            steps:
              - {id: a, run: {command: [a]}}
              - {id: b, run: {command: [b]}}
              - {id: c, needs: [a, b], run: {command: [c]}}
            """
        var run = try EngineHarness(parallel)
        run.trigger()
        run.start("a")
        run.start("b")
        spend(&run, "a", tokens: 150)
        run.succeed("a")
        #expect(run.state.budgetGate == nil, "nothing would start yet")
        run.feed(.usageRecorded(step: "b", attempt: 1, usage: Usage(tokens: 10)))
        run.succeed("b")
        #expect(run.step("b").status == .succeeded)
        #expect(run.state.usage.tokens == 160)
        #expect(run.state.budgetGate?.step == "c")
        #expect(run.dispatched.isEmpty)
        run.checkHistory()
    }

    @Test("Usage is counted once, for the current attempt only")
    func usageOnce() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 10)
        run.succeed("patch")
        #expect(run.feed(.usageRecorded(step: "patch", attempt: 1, usage: Usage(tokens: 5))).ignored)
        #expect(run.feed(.usageRecorded(step: "test", attempt: 7, usage: Usage(tokens: 5))).ignored)
        #expect(run.state.usage.tokens == 10)
        run.checkHistory()
    }

    @Test("Cancelling a run at a budget gate closes its approval")
    func cancelCloses() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("patch")
        spend(&run, "patch", tokens: 1000)
        run.succeed("patch")
        run.feed(.runCancelRequested(actor: "ops", reason: "enough"))
        #expect(run.commands.contains(.closeApproval(approvalID: gateID)))
        #expect(run.state.budgetGate == nil)
        #expect(run.state.outcome == .cancelled)
        run.checkHistory()
    }

    @Test("A flow without a budget never gates")
    func noBudget() throws {
        var run = try EngineHarness(
            "flow: free\nsteps:\n  - {id: a, run: {command: [a]}}\n  - {id: b, needs: [a], run: {command: [b]}}\n"
        )
        run.trigger()
        run.start("a")
        spend(&run, "a", tokens: 1e12)
        run.succeed("a")
        #expect(run.dispatched == ["b"])
        run.checkHistory()
    }
}
