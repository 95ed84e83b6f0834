import KeelCore
import KeelStore
import MetricsTestKit
import Testing

/// `RunMetrics` on advances built with the real reducer, counted by a test factory of their own (the
/// process-wide metrics system is never bootstrapped here).
@Suite struct RunMetricsTests {
    static let flow = """
        flow: measured
        steps:
          - id: build
            retry: {max_attempts: 2, initial: 1s, backoff: fixed}
            run: {command: [make]}
          - id: callback
            needs: [build]
            wait: {timeout: 1h}
          - id: deploy
            needs: [callback]
            run: {command: [deploy]}
        """

    /// Feeds facts through the reducer as `RunAdvancer` does and records each advance.
    struct Driver {
        let reducer: RunReducer
        let metrics: RunMetrics
        var state: RunState
        var now: Int64 = 1_800_000_000_000
        let runID = RunID("0193a1b2-0000-7000-8000-000000000001")!

        init(factory: TestMetrics) throws {
            reducer = RunReducer(flow: try FlowParser.parse(yaml: RunMetricsTests.flow, file: "flow.yaml"))
            metrics = RunMetrics(factory: factory)
            state = reducer.initialState
        }

        var at: Timestamp { Timestamp(millisecondsSinceEpoch: now) }

        mutating func after(ms: Int64, _ event: RunFact.Event) {
            now += ms
            let fact = RunFact(at: at, event: event)
            let transition = reducer.reduce(state, fact)
            let advance = RunAdvance(
                state: transition.state, previous: state, facts: [fact] + transition.derived,
                commands: transition.commands, ignored: transition.ignored)
            if !advance.ignored { metrics.record(advance) }
            state = transition.state
        }

        mutating func trigger() {
            after(
                ms: 0,
                .runTriggered(
                    RunTrigger(
                        runID: runID, flow: "measured", version: 7, input: [:], correlationID: "corr",
                        idempotencyKey: "key")))
        }

        mutating func fire(_ purpose: RunTimer.Purpose, afterMs ms: Int64) throws {
            let timer = try #require(state.timers.values.first { $0.purpose == purpose })
            after(ms: ms, .timerFired(timerID: timer.id))
        }

        func waitID(_ step: String) throws -> String { try #require(state.steps[step]?.waitID) }
    }

    static let run = [("flow", "measured"), ("release", "7")]

    static func step(_ id: String, _ kind: String) -> [(String, String)] {
        run + [("step", id), ("kind", kind)]
    }

    @Test func aRunWithARetryAWaitAndAFailureIsCountedByFlowReleaseStepAndClass() throws {
        let factory = TestMetrics()
        var driver = try Driver(factory: factory)
        driver.trigger()
        // build: queued 40 ms, runs 1 s, fails (transient), retried after 1 s, then queued 10 ms, runs 2 s.
        driver.after(ms: 40, .stepStarted(step: "build", attempt: 1, executor: "e1", leaseToken: 1))
        driver.after(
            ms: 1000, .stepFailed(step: "build", attempt: 1, errorClass: .transient, message: "exit 75"))
        try driver.fire(.retry(step: "build", attempt: 2), afterMs: 1000)
        driver.after(ms: 10, .stepStarted(step: "build", attempt: 2, executor: "e1", leaseToken: 1))
        // A second executor takes over after the lease expired: the attempt was queued only once.
        driver.after(ms: 500, .stepStarted(step: "build", attempt: 2, executor: "e2", leaseToken: 2))
        driver.after(ms: 1500, .stepSucceeded(step: "build", attempt: 2, outputs: [:]))
        // callback: waits 3 s, a heartbeat ends nothing, then it succeeds.
        let wait = try driver.waitID("callback")
        driver.after(
            ms: 1000, .callbackReceived(step: "callback", waitID: wait, status: .heartbeat, output: .null))
        driver.after(
            ms: 2000, .callbackReceived(step: "callback", waitID: wait, status: .succeeded, output: .null))
        // deploy: fails for good (permanent is not retried).
        driver.after(ms: 5, .stepStarted(step: "deploy", attempt: 1, executor: "e1", leaseToken: 1))
        driver.after(
            ms: 250, .stepFailed(step: "deploy", attempt: 1, errorClass: .permanent, message: "exit 1"))
        #expect(driver.state.status == .finished)

        #expect(factory.counterTotal(label: "keel_runs_started_total", dimensions: Self.run) == 1)
        #expect(
            factory.counterTotal(
                label: "keel_runs_finished_total", dimensions: Self.run + [("outcome", "failed")]) == 1)
        #expect(factory.counters(label: "keel_runs_finished_total").count == 1)

        let queued = try factory.expectTimer("keel_step_queue_seconds", Self.step("build", "run"))
        #expect(queued.values == [40_000_000, 10_000_000])
        let build = try factory.expectTimer("keel_step_duration_seconds", Self.step("build", "run"))
        #expect(build.values == [1_000_000_000, 2_000_000_000])
        let callback = try factory.expectTimer("keel_step_duration_seconds", Self.step("callback", "wait"))
        #expect(callback.values == [3_000_000_000])
        let deploy = try factory.expectTimer("keel_step_duration_seconds", Self.step("deploy", "run"))
        #expect(deploy.values == [250_000_000])
        let waited = try factory.expectTimer(
            "keel_wait_duration_seconds", Self.run + [("step", "callback"), ("status", "succeeded")])
        #expect(waited.values == [3_000_000_000])

        #expect(
            factory.counterTotal(
                label: "keel_step_retries_total",
                dimensions: Self.run + [("step", "build"), ("error_class", "transient")]) == 1)
        #expect(factory.counters(label: "keel_step_retries_total").count == 1)
        #expect(
            factory.counterTotal(
                label: "keel_step_failures_total",
                dimensions: Self.run + [("step", "deploy"), ("error_class", "permanent")]) == 1)
        #expect(factory.counters(label: "keel_step_failures_total").count == 1)
        // No label names a run or an attempt.
        let labels = Set(
            (factory.counters.map(\.dimensions) + factory.timers.map(\.dimensions)).flatMap { $0.map(\.0) })
        #expect(labels == ["flow", "release", "step", "kind", "outcome", "error_class", "status"])
    }

    @Test func aWaitThatTimesOutCountsAsATimeoutFailure() throws {
        let factory = TestMetrics()
        var driver = try Driver(factory: factory)
        driver.trigger()
        driver.after(ms: 1, .stepStarted(step: "build", attempt: 1, executor: "e1", leaseToken: 1))
        driver.after(ms: 1, .stepSucceeded(step: "build", attempt: 1, outputs: [:]))
        try driver.fire(.waitTimeout(step: "callback", attempt: 1), afterMs: 3_600_000)

        let waited = try factory.expectTimer(
            "keel_wait_duration_seconds", Self.run + [("step", "callback"), ("status", "timed_out")])
        #expect(waited.values == [3_600_000_000_000])
        #expect(
            factory.counterTotal(
                label: "keel_step_failures_total",
                dimensions: Self.run + [("step", "callback"), ("error_class", "timeout")]) == 1)
        #expect(
            factory.counterTotal(
                label: "keel_runs_finished_total", dimensions: Self.run + [("outcome", "failed")]) == 1)
    }

    @Test func anIgnoredOrEmptyAdvanceRecordsNothing() throws {
        let factory = TestMetrics()
        var driver = try Driver(factory: factory)
        driver.trigger()
        // A result for an attempt that never started is not accepted by the reducer.
        driver.after(ms: 5, .stepSucceeded(step: "deploy", attempt: 4, outputs: [:]))
        #expect(factory.timers.isEmpty)
        #expect(factory.counters.map(\.label) == ["keel_runs_started_total"])
    }
}
