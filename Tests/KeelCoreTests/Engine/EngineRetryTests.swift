import Testing

@testable import KeelCore

@Suite("Engine: retries")
struct EngineRetryTests {
    private func retryDelays(_ retry: String, failures: Int, errorClass: ErrorClass = .transient) throws
        -> (EngineHarness, [Int64])
    {
        var run = try EngineHarness("flow: r\nsteps:\n  - {id: a, noop: {}, retry: \(retry)}\n")
        run.trigger()
        var delays: [Int64] = []
        for _ in 0..<failures {
            run.start("a")
            run.fail("a", errorClass)
            guard run.step("a").status == .retrying else { break }
            let due = try #require(run.step("a").retryDue)
            delays.append(due.millisecondsSinceEpoch - run.now)
            run.fire(.retry(step: "a", attempt: run.step("a").attempt + 1))
            #expect(run.dispatched == ["a"])
        }
        return (run, delays)
    }

    @Test func fixedBackoffWaitsInitialEveryTime() throws {
        let (run, delays) = try retryDelays(
            "{max_attempts: 4, backoff: fixed, initial: 5s, jitter: false}", failures: 4)
        #expect(delays == [5_000, 5_000, 5_000])
        #expect(run.step("a").status == .failed)
        #expect(run.step("a").attempt == 4)
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func exponentialBackoffDoublesUpToTheMaximum() throws {
        let (run, delays) = try retryDelays(
            "{max_attempts: 6, backoff: exponential, initial: 1s, max: 5s, jitter: false}", failures: 6)
        #expect(delays == [1_000, 2_000, 4_000, 5_000, 5_000])
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func retryScheduledFactCarriesAttemptDelayAndDueTime() throws {
        var run = try EngineHarness(
            "flow: r\nsteps:\n  - {id: a, noop: {}, retry: {max_attempts: 2, initial: 3s, jitter: false}}\n")
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        let expected = RunFact.Event.stepRetryScheduled(
            step: "a", attempt: 2, delay: FlowDuration(milliseconds: 3_000),
            dueAt: run.at.adding(milliseconds: 3_000))
        #expect(run.history.last?.event == expected)
        #expect(
            run.commands.contains(
                .startTimer(
                    RunTimer(
                        id: "\(run.runID):a:2:retry", due: run.at.adding(milliseconds: 3_000),
                        purpose: .retry(step: "a", attempt: 2)))))
        #expect(run.published.isEmpty)
    }

    @Test func errorClassesOutsideOnFailAtOnce() throws {
        let (run, delays) = try retryDelays(
            "{max_attempts: 5, on: [transient]}", failures: 3, errorClass: .permanent)
        #expect(delays.isEmpty)
        #expect(run.step("a").attempt == 1)
        #expect(run.step("a").status == .failed)
    }

    @Test func defaultOnRetriesTimeoutButNotPermanent() throws {
        #expect(RetryPolicy.defaultOn == [.transient, .timeout])
        let (timeoutRun, timeoutDelays) = try retryDelays(
            "{max_attempts: 2, jitter: false}", failures: 2, errorClass: .timeout)
        #expect(timeoutDelays == [1_000])
        #expect(timeoutRun.step("a").attempt == 2)
        let (cancelledRun, _) = try retryDelays(
            "{max_attempts: 2, on: [cancelled]}", failures: 2, errorClass: .cancelled)
        #expect(cancelledRun.step("a").attempt == 2)
    }

    @Test func noRetryPolicyMeansOneAttempt() throws {
        var run = try EngineHarness("flow: r\nsteps: [{id: a, noop: {}}]\n")
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        #expect(run.step("a").status == .failed)
        #expect(run.state.outcome == .failed)
    }

    @Test func jitterStaysWithinTheBackoffAndIsDeterministic() throws {
        let policy = RetryPolicy(
            maxAttempts: 10, backoff: .exponential, initial: FlowDuration(milliseconds: 1_000))
        var distinct = Set<Int64>()
        for runIndex in 0..<200 {
            let runID = "run-\(runIndex)"
            for failures in 1...5 {
                let backoff = RetryDelay.backoff(policy, failures: failures)
                let delay = RetryDelay.delay(
                    policy, failures: failures, runID: runID, step: "a", attempt: failures + 1)
                #expect(delay.milliseconds >= 0 && delay.milliseconds <= backoff.milliseconds)
                #expect(
                    delay
                        == RetryDelay.delay(
                            policy, failures: failures, runID: runID, step: "a", attempt: failures + 1))
                if failures == 1 { distinct.insert(delay.milliseconds) }
            }
        }
        // Spread over 0...1000 ms, not stuck on a few values.
        #expect(distinct.count > 150)
        #expect(
            RetryDelay.jitterDraw(runID: "r", step: "a", attempt: 2)
                != RetryDelay.jitterDraw(runID: "r", step: "a", attempt: 3))
        #expect(
            RetryDelay.jitterDraw(runID: "r", step: "a", attempt: 2)
                != RetryDelay.jitterDraw(runID: "r", step: "b", attempt: 2))
    }

    @Test func jitterDrawIsTheDocumentedHash() {
        // The first 8 bytes of SHA-256("r NUL a NUL 2"), big-endian.
        let draw = RetryDelay.jitterDraw(runID: "r", step: "a", attempt: 2)
        let expected = ContentDigest.sha256Hex(of: Array("r\u{0}a\u{0}2".utf8)).prefix(16)
        #expect(String(draw, radix: 16).leftPadded(to: 16) == String(expected))
    }

    @Test func jitteredRetryInARunUsesTheSameDelayOnReplay() throws {
        let (run, delays) = try retryDelays("{max_attempts: 4, initial: 10s}", failures: 4)
        let policy = try #require(run.reducer.flow.step("a")?.retry)
        #expect(
            delays
                == (1...3).map {
                    RetryDelay.delay(
                        policy, failures: $0, runID: run.runID.description, step: "a", attempt: $0 + 1
                    )
                    .milliseconds
                })
        run.checkHistory()
    }

    @Test func zeroDelayRetriesDispatchAtOnce() throws {
        // Flows cannot say `initial: 0s`, but jitter can draw 0: the reducer must not arm a timer for it.
        var flow = try FlowTest.parse(
            "flow: r\nsteps:\n  - {id: a, noop: {}, retry: {max_attempts: 2, jitter: false}}\n")
        flow.steps[0].retry?.initial = FlowDuration(milliseconds: 0)
        var run = EngineHarness(flow: flow)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        #expect(run.dispatched == ["a"])
        #expect(run.step("a").attempt == 2)
        #expect(run.state.timers.isEmpty)
        run.checkHistory()
    }

    @Test func noRetryThatWouldStartAfterTheStepTimeout() throws {
        var run = try EngineHarness(
            "flow: r\nsteps:\n  - {id: a, noop: {}, timeout: 10s, retry: {max_attempts: 3, initial: 20s, jitter: false}}\n"
        )
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        #expect(run.step("a").status == .failed)
        #expect(run.state.outcome == .failed)
    }

    @Test func backoffNeverOverflows() {
        let policy = RetryPolicy(
            maxAttempts: 100, backoff: .exponential, initial: FlowDuration(milliseconds: 86_400_000),
            jitter: false)
        #expect(RetryDelay.backoff(policy, failures: 99) == FlowDuration.maximum)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
