import Testing

@testable import KeelCore

@Suite("Engine: cancellation and retry from a step")
struct EngineCancellationTests {
    private let diamond = """
        flow: d
        timeout: 2h
        steps:
          - {id: a, noop: {}}
          - {id: b, needs: [a], noop: {}, timeout: 10m}
          - {id: c, needs: [a], noop: {}, retry: {max_attempts: 3, initial: 1m}}
          - {id: w, needs: [a], wait: {timeout: 1h}}
          - {id: d, needs: [b, c, w], noop: {}}
        """

    @Test func cancelStopsRunningAttemptsCancelsPendingStepsAndTimers() throws {
        var run = try EngineHarness(diamond)
        run.trigger()
        run.complete("a")
        run.start("b")
        run.start("c")
        run.fail("c", .transient)
        let armed = Set(run.state.timers.keys)
        #expect(armed.count == 4)  // run, b's step timeout, c's retry, w's wait timeout
        let waitID = try #require(run.step("w").waitID)
        run.feed(.runCancelRequested(actor: "carol", reason: "wrong branch"))
        #expect(run.state.status == .finished)
        #expect(run.state.outcome == .cancelled)
        #expect(run.state.finishReason == "wrong branch")
        for id in ["b", "c", "w", "d"] { #expect(run.step(id).status == .cancelled) }
        #expect(run.step("a").status == .succeeded)
        let stops = run.commands.compactMap {
            if case .stopAttempt(let step, _, _, _) = $0 { step } else { nil }
        }
        #expect(stops == ["b"])
        let cancelled = Set(run.commands.compactMap { if case .cancelTimer(let id) = $0 { id } else { nil } })
        #expect(cancelled == armed)
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.commands.contains(.finishRun(outcome: .cancelled, replyTo: nil)))
        #expect(run.published.contains("run.cancelled.d"))
        // Everything after the end is ignored.
        #expect(run.feed(.stepSucceeded(step: "b", attempt: 1, outputs: [:])).ignored)
        #expect(run.feed(.runCancelRequested(actor: "carol", reason: "again")).ignored)
        #expect(
            run.feed(.callbackReceived(step: "w", waitID: waitID, status: .succeeded, output: nil)).ignored)
        run.checkHistory()
    }

    @Test func retryFromAStepRerunsItAndEverythingDownstream() throws {
        var run = try EngineHarness(
            """
            flow: r
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
              - {id: c, needs: [b], noop: {}}
              - {id: side, needs: [a], noop: {}}
            """)
        run.trigger()
        run.complete("a")
        run.complete("side")
        run.complete("b")
        run.start("c")
        run.fail("c")
        #expect(run.state.outcome == .failed)
        // Retrying a running run or an unknown step changes nothing.
        #expect(run.feed(.runRetryRequested(fromStep: "nope", pass: 1, actor: "dave")).ignored)
        #expect(run.feed(.runRetryRequested(fromStep: "b", pass: 2, actor: "dave")).ignored)
        run.feed(.runRetryRequested(fromStep: "b", pass: 1, actor: "dave"))
        #expect(run.state.status == .running)
        #expect(run.state.pass == 2)
        #expect(run.dispatched == ["b"])
        #expect(run.step("b").attempt == 2)
        #expect(run.step("c").status == .pending)
        #expect(run.step("side").status == .succeeded)
        #expect(run.step("a").attempt == 1)
        #expect(run.feed(.runRetryRequested(fromStep: "a", pass: 2, actor: "dave")).ignored)
        run.complete("b")
        #expect(run.dispatched == ["c"])
        #expect(run.step("c").attempt == 2)
        run.complete("c")
        #expect(run.state.outcome == .succeeded)
        // The same request delivered again does not restart the run.
        #expect(run.feed(.runRetryRequested(fromStep: "b", pass: 1, actor: "dave")).ignored)
        // History is kept: both rounds are in it.
        #expect(run.history.filter { $0.event.kind == "run.finished" }.count == 2)
        run.checkHistory()
    }

    @Test func retryFromRestartsAttemptCountingAndTimers() throws {
        var run = try EngineHarness(
            """
            flow: r
            timeout: 1h
            steps:
              - {id: a, noop: {}, timeout: 5m, retry: {max_attempts: 2, initial: 1s, jitter: false}}
            """)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        run.fire(.retry(step: "a", attempt: 2))
        run.start("a")
        run.fail("a", .transient)
        #expect(run.state.outcome == .failed)
        run.advance(ms: 60_000)
        run.feed(.runRetryRequested(fromStep: "a", pass: 1, actor: nil))
        #expect(run.step("a").attempt == 3)
        #expect(run.step("a").roundStart == 3)
        #expect(run.timer(.stepTimeout(step: "a"))?.id == "\(run.runID):a:3:step-timeout")
        #expect(run.timer(.runTimeout)?.id == "\(run.runID):run-timeout:2")
        run.start("a")
        run.fail("a", .transient)
        #expect(run.step("a").status == .retrying)
        run.checkHistory()
    }
}
