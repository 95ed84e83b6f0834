import Testing

@testable import KeelCore

@Suite("OperatorRequest")
struct OperatorRequestTests {
    private let flow = """
        flow: o
        steps:
          - {id: a, noop: {}}
          - {id: b, needs: [a], noop: {}}
        """

    @Test func cancelFitsAnUnfinishedRunOnly() throws {
        var run = try EngineHarness(flow)
        let cancel = OperatorRequest.cancel(actor: "ana", reason: "not needed")
        #expect(throws: OperatorRequestRefusal.notTriggered(runID: "")) {
            try cancel.fact(for: run.state, at: run.at).get()
        }
        run.trigger()
        let fact = try cancel.fact(for: run.state, at: run.at).get()
        #expect(fact == RunFact(at: run.at, event: .runCancelRequested(actor: "ana", reason: "not needed")))
        #expect(run.state.accepts(fact))
        run.feed(fact.event)
        let refusal = OperatorRequestRefusal.alreadyFinished(
            runID: run.runID.description, outcome: .cancelled)
        #expect(throws: refusal) { try cancel.fact(for: run.state, at: run.at).get() }
        #expect(refusal.description.contains("already finished (cancelled)"))
    }

    @Test func retryFitsAFinishedRunAndAStepOfItsFlow() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        let retry = OperatorRequest.retry(fromStep: "b", actor: "dave")
        #expect(throws: OperatorRequestRefusal.stillRunning(runID: run.runID.description)) {
            try retry.fact(for: run.state, at: run.at).get()
        }
        let unknown = OperatorRequestRefusal.unknownStep("z", flow: "o", version: 3, steps: ["a", "b"])
        #expect(throws: unknown) {
            try OperatorRequest.retry(fromStep: "z", actor: nil).fact(for: run.state, at: run.at).get()
        }
        #expect(unknown.description == "flow o v3 has no step 'z' (its steps: a, b)")
        run.complete("a")
        run.start("b")
        run.fail("b")
        let fact = try retry.fact(for: run.state, at: run.at).get()
        #expect(fact.event == .runRetryRequested(fromStep: "b", pass: 1, actor: "dave"))
        #expect(!run.feed(fact.event).ignored)
        #expect(run.state.pass == 2)
    }
}
