import Testing

@testable import KeelCore

@Suite("Engine: late and duplicate facts")
struct EngineIdempotencyTests {
    private let flow = """
        flow: i
        steps:
          - {id: a, noop: {}, retry: {max_attempts: 3, initial: 1s, jitter: false}}
          - {id: b, needs: [a], noop: {}}
        """

    @Test func duplicateTriggerIsIgnored() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        #expect(run.trigger().ignored)
    }

    @Test func factsBeforeTheTriggerAreIgnored() throws {
        var run = try EngineHarness(flow)
        #expect(run.feed(.stepStarted(step: "a", attempt: 1, executor: "x", leaseToken: 1)).ignored)
        #expect(run.feed(.runCancelRequested(actor: nil, reason: "r")).ignored)
        #expect(run.state.status == .pending)
    }

    @Test func secondSuccessAndSecondStartChangeNothing() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("a")
        #expect(run.feed(.stepStarted(step: "a", attempt: 1, executor: "other", leaseToken: 7)).ignored)
        #expect(run.feed(.stepStarted(step: "a", attempt: 1, executor: "other", leaseToken: 3)).ignored)
        run.succeed("a")
        #expect(run.feed(.stepSucceeded(step: "a", attempt: 1, outputs: ["x": 1])).ignored)
        #expect(run.feed(.stepFailed(step: "a", attempt: 1, errorClass: .transient, message: "late")).ignored)
        #expect(run.step("b").attempt == 1)
        run.checkHistory()
    }

    @Test func expiredLeaseIsReclaimedWithANewerToken() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("a")
        let takeover = run.feed(.stepStarted(step: "a", attempt: 1, executor: "exec-2", leaseToken: 9))
        #expect(!takeover.ignored)
        #expect(takeover.derived.isEmpty && takeover.commands.isEmpty)
        #expect(run.step("a").executor == "exec-2")
        #expect(run.step("a").leaseToken == 9)
        #expect(run.step("a").attempt == 1)
        run.succeed("a")
        run.checkHistory()
    }

    @Test func resultForAnOldAttemptIsIgnored() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        run.fire(.retry(step: "a", attempt: 2))
        #expect(run.feed(.stepSucceeded(step: "a", attempt: 1, outputs: [:])).ignored)
        #expect(run.feed(.stepStarted(step: "a", attempt: 1, executor: "x", leaseToken: 1)).ignored)
        #expect(run.feed(.stepSucceeded(step: "a", attempt: 3, outputs: [:])).ignored)
        #expect(run.step("a").status == .scheduled)
        run.checkHistory()
    }

    @Test func firedTimerThatWasCancelledOrFiredAlreadyIsIgnored() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        let retry = try #require(run.timer(.retry(step: "a", attempt: 2)))
        run.fire(.retry(step: "a", attempt: 2))
        #expect(run.feed(.timerFired(timerID: retry.id)).ignored)
        #expect(run.feed(.timerFired(timerID: "no-such-timer")).ignored)
        #expect(run.step("a").attempt == 2)
    }

    @Test func derivedFactsFromOutsideAreRefused() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        let forged = RunFact(at: run.at, event: .runFinished(outcome: .succeeded, reason: nil))
        #expect(run.reducer.reduce(run.state, forged).ignored)
        let markedDerived = RunFact(
            at: run.at, event: .stepStarted(step: "a", attempt: 1, executor: "x", leaseToken: 1),
            derived: true)
        #expect(run.reducer.reduce(run.state, markedDerived).ignored)
    }

    @Test func ignoredFactsRecordedAnywayReplayToTheSameState() throws {
        var run = try EngineHarness(flow)
        run.trigger()
        run.complete("a")
        var history = run.history
        history.append(
            RunFact(at: run.at, event: .stepSucceeded(step: "a", attempt: 1, outputs: ["late": true])))
        history.append(RunFact(at: run.at, event: .timerFired(timerID: "stale")))
        #expect(RunState.replay(history, flow: run.reducer.flow) == run.state)
        #expect(run.reducer.redecide(history).derived == run.history.filter(\.derived))
    }
}
