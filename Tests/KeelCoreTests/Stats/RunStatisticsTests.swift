import Foundation
import Testing

@testable import KeelCore

/// A hand-built history: seven runs of `deploy` over two versions, driven through the real reducer (so
/// the facts are exactly what the engine records), with every figure worked out by hand below.
///
/// - r1 (v1, at 0 s): build queues 10 ms, runs 1 s; the wait is answered after 60 s; bob approves
///   after 5 s.
/// - r2 (v2, at 100 s): build queues 20 ms, fails transient after 2 s; retried 5 s later, queues 30 ms,
///   fails permanent after 3 s.
/// - r3 (v2, at 200 s): build queues 40 ms, runs 4 s; the wait's callback fails after 30 s.
/// - r4 (v1, at 300 s): build queues 50 ms, runs 5 s; the wait is answered after 90 s; bob approves
///   after 15 s.
/// - r5 (v1, at 500 s): build queues 60 ms; the run is cancelled 1 s into it.
/// - r6 (v2, at 600 s): build queues 70 ms, fails permanent after 500 ms.
/// - r7 (v2, at 700 s): build queues 80 ms and is still running.
@Suite("RunStatistics")
struct RunStatisticsTests {
    /// The run id a test names `r1`, `r2`...
    static func runID(_ name: String) -> RunID { .fixture(Int(name.dropFirst())!) }

    private static let origin: Int64 = 1_800_000_000_000
    private let flow = """
        flow: deploy
        steps:
          - {id: build, run: {command: [make]}, retry: {max_attempts: 2, initial: 5s, jitter: false}}
          - {id: job, needs: [build], wait: {timeout: 1h}}
          - {id: review, needs: [job], approval: {approvers: [bob]}}
        """

    private func at(_ offset: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: Self.origin + offset) }

    /// A run of `deploy` triggered at `start` (ms after the origin), as its timeline.
    private func run(
        _ id: String, version: Int, start: Int64, _ script: (inout EngineHarness) throws -> Void
    ) throws -> RunTimeline {
        var run = try EngineHarness(flow)
        run.now = Self.origin + start
        run.trigger()
        try script(&run)
        var timeline = try RunTimeline(flow: run.reducer.flow, history: run.history)
        timeline.runID = Self.runID(id)
        timeline.version = version
        return timeline
    }

    /// Builds after `queue` ms for `duration` ms, then answers the wait after `wait` ms with `status`,
    /// then bob approves after `approval` ms.
    private func deploy(
        _ run: inout EngineHarness, queue: Int64, duration: Int64, wait: Int64,
        status: CallbackStatus = .succeeded, approval: Int64 = 0
    ) throws {
        run.advance(ms: queue)
        run.start("build")
        run.advance(ms: duration)
        run.succeed("build")
        let waitID = try #require(run.step("job").waitID)
        run.advance(ms: wait)
        run.feed(.callbackReceived(step: "job", waitID: waitID, status: status, output: nil))
        guard status == .succeeded else { return }
        let approvalID = try #require(run.step("review").approvalID)
        run.advance(ms: approval)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .approve, actor: "bob", note: nil))
    }

    private func history() throws -> [RunTimeline] {
        [
            try run("r1", version: 1, start: 0) {
                try deploy(&$0, queue: 10, duration: 1_000, wait: 60_000, approval: 5_000)
            },
            try run("r2", version: 2, start: 100_000) { run in
                run.advance(ms: 20)
                run.start("build")
                run.advance(ms: 2_000)
                run.fail("build", .transient)
                run.fire(.retry(step: "build", attempt: 2))
                run.advance(ms: 30)
                run.start("build")
                run.advance(ms: 3_000)
                run.fail("build", .permanent)
            },
            try run("r3", version: 2, start: 200_000) {
                try deploy(&$0, queue: 40, duration: 4_000, wait: 30_000, status: .failed)
            },
            try run("r4", version: 1, start: 300_000) {
                try deploy(&$0, queue: 50, duration: 5_000, wait: 90_000, approval: 15_000)
            },
            try run("r5", version: 1, start: 500_000) { run in
                run.advance(ms: 60)
                run.start("build")
                run.advance(ms: 1_000)
                run.feed(.runCancelRequested(actor: "ana", reason: "wrong branch"))
            },
            try run("r6", version: 2, start: 600_000) { run in
                run.advance(ms: 70)
                run.start("build")
                run.advance(ms: 500)
                run.fail("build", .permanent)
            },
            try run("r7", version: 2, start: 700_000) { run in
                run.advance(ms: 80)
                run.start("build")
            },
        ]
    }

    private var releases: [FlowReleaseEvent] {
        [
            FlowReleaseEvent(flow: "deploy", fromVersion: nil, toVersion: 1, kind: .release, at: at(-1_000)),
            FlowReleaseEvent(flow: "deploy", fromVersion: 1, toVersion: 2, kind: .release, at: at(50_000)),
            FlowReleaseEvent(flow: "deploy", fromVersion: 2, toVersion: 1, kind: .rollback, at: at(250_000)),
            FlowReleaseEvent(flow: "deploy", fromVersion: 1, toVersion: 2, kind: .release, at: at(550_000)),
            FlowReleaseEvent(flow: "audit", fromVersion: nil, toVersion: 1, kind: .release, at: at(10)),
        ]
    }

    @Test func theHandBuiltHistoryReadsAsScripted() throws {
        let runs = try history()
        #expect(runs.map(\.outcome) == [.succeeded, .failed, .failed, .succeeded, .cancelled, .failed, nil])
        #expect(
            runs.map(\.finishedAt) == [
                at(66_010), at(110_050), at(234_040), at(410_050), at(501_060), at(600_570), nil,
            ])
    }

    @Test func outcomesSuccessRateErrorClassesAndRetries() throws {
        let stats = RunStatistics(runs: try history(), releases: releases)
        #expect(stats.runs.total == 7)
        #expect(stats.runs.succeeded == 2 && stats.runs.failed == 3 && stats.runs.cancelled == 1)
        #expect(stats.runs.unfinished == 1)
        // 2 succeeded of 6 finished.
        #expect(stats.successRate == 2.0 / 6.0)
        // r2's first attempt; r2's second, r3's failed callback, r6; r5's cancelled build.
        #expect(stats.errorClasses == [.transient: 1, .permanent: 3, .cancelled: 1])
        #expect(stats.retries == 1 && stats.runRetries == 0)
    }

    @Test func latencyPercentiles() throws {
        let stats = RunStatistics(runs: try history(), releases: releases)
        // Queue times 10…80 ms (8 attempts, r2 twice): ranks 4, 8, 8.
        #expect(stats.queueTime == summary(count: 8, 40, 80, 80, max: 80))
        // Finished started attempts: 500, 1000 (r1), 1000 (r5), 2000, 3000, 4000, 5000: ranks 4, 7, 7.
        #expect(stats.stepDuration == summary(count: 7, 2_000, 5_000, 5_000, max: 5_000))
        // Answered waits 30, 60, 90 s (r3's failed callback answers it too).
        #expect(stats.waitDuration == summary(count: 3, 60_000, 90_000, 90_000, max: 90_000))
        // bob's approvals after 5 and 15 s.
        #expect(stats.approvalTurnaround == summary(count: 2, 5_000, 15_000, 15_000, max: 15_000))
    }

    @Test func latenciesRetriesAndErrorsPerStep() throws {
        let stats = RunStatistics(runs: try history(), releases: releases)
        #expect(
            stats.steps.map { "\($0.flow) \($0.step) \($0.kind)" } == [
                "deploy build run", "deploy job wait", "deploy review approval",
            ])
        let build = stats.steps[0]
        // Every run builds; r2 twice.
        #expect(build.attempts == 8 && build.retries == 1)
        #expect(build.errorClasses == [.transient: 1, .permanent: 2, .cancelled: 1])
        #expect(build.duration == summary(count: 7, 2_000, 5_000, 5_000, max: 5_000))
        #expect(build.queueTime == summary(count: 8, 40, 80, 80, max: 80))
        // r1, r3 and r4 reached the wait; only r3's callback failed it. Nothing executes a bare wait.
        let job = stats.steps[1]
        #expect(job.attempts == 3 && job.retries == 0 && job.errorClasses == [.permanent: 1])
        #expect(job.duration.count == 0 && job.queueTime.count == 0)
        #expect(stats.steps[2].attempts == 2 && stats.steps[2].errorClasses.isEmpty)
    }

    @Test func runsAndRollbacksPerRelease() throws {
        let stats = RunStatistics(runs: try history(), releases: releases)
        #expect(stats.releases.map { "\($0.flow) v\($0.version)" } == ["audit v1", "deploy v1", "deploy v2"])
        let audit = stats.releases[0]
        #expect(audit.runs.total == 0 && audit.madeLive == 1 && audit.rollbacks == 0)
        let v1 = stats.releases[1]
        #expect(v1.runs.total == 3 && v1.runs.succeeded == 2 && v1.runs.cancelled == 1)
        // Released once, made live again by the rollback; never rolled back from.
        #expect(v1.madeLive == 2 && v1.rollbacks == 0)
        let v2 = stats.releases[2]
        #expect(v2.runs.total == 4 && v2.runs.failed == 3 && v2.runs.unfinished == 1)
        #expect(v2.madeLive == 2 && v2.rollbacks == 1)
    }

    @Test func timeToRecoverRunsFromTheFirstFailureToTheNextSuccess() throws {
        let stats = RunStatistics(runs: try history(), releases: releases)
        // r2 fails (r3's failure joins it) until r4 succeeds; r5 is cancelled and ignored; r6 is still open.
        #expect(stats.recoveries.count == 2)
        let first = stats.recoveries[0]
        #expect(
            first.failedRunID == Self.runID("r2") && first.failedVersion == 2 && first.failedAt == at(110_050)
        )
        #expect(
            first.recoveredRunID == Self.runID("r4") && first.recoveredVersion == 1
                && first.recoveredAt == at(410_050))
        #expect(first.milliseconds == 300_000)
        let open = stats.recoveries[1]
        #expect(
            open.failedRunID == Self.runID("r6") && open.recoveredRunID == nil && open.milliseconds == nil)
        #expect(stats.timeToRecover == summary(count: 1, 300_000, 300_000, 300_000, max: 300_000))
    }

    @Test func noRunsGiveNoRateAndEmptySummaries() {
        let stats = RunStatistics(runs: [], releases: [])
        #expect(stats.runs.total == 0 && stats.successRate == nil)
        #expect(stats.stepDuration.count == 0 && stats.stepDuration.p50 == nil)
        #expect(stats.releases.isEmpty && stats.recoveries.isEmpty)
    }

    @Test func theJSONDocumentHasEveryKeyWithNullsAndEveryErrorClass() throws {
        let stats = RunStatistics(runs: [], releases: [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let document = try JSONValue(parsing: String(decoding: try encoder.encode(stats), as: UTF8.self))
        let object = try #require(document.objectValue)
        #expect(
            object.keys.sorted() == [
                "approvalTurnaroundMs", "errorClasses", "flows", "queueMs", "recoveries", "releases",
                "retries",
                "runRetries", "runs", "stepDurationMs", "steps", "successRate", "timeToRecoverMs", "usage",
                "waitMs",
            ])
        #expect(object["successRate"] == .null)
        #expect(object["errorClasses"] == ["cancelled": 0, "permanent": 0, "timeout": 0, "transient": 0])
        #expect(object["queueMs"] == ["count": 0, "p50": .null, "p90": .null, "p99": .null, "max": .null])
    }

    private func summary(count: Int, _ p50: Int64, _ p90: Int64, _ p99: Int64, max: Int64) -> DurationSummary
    {
        var summary = DurationSummary([])
        summary.count = count
        summary.p50 = p50
        summary.p90 = p90
        summary.p99 = p99
        summary.max = max
        return summary
    }
}

@Suite("RunStatistics: mapped steps")
struct MappedRunStatisticsTests {
    @Test func aMappedStepsElementsCountAsItsAttemptsUnderItsOwnId() throws {
        var run = try EngineHarness(
            """
            flow: bulk
            steps:
              - id: apply
                map: {over: "${{ input.shards }}", max_concurrency: 3}
                retry: {max_attempts: 2, initial: 1s, on: [transient]}
                noop: {}
            """)
        run.trigger(input: ["shards": [1, 2, 3]])
        run.complete("apply[0]")
        run.start("apply[1]")
        run.fail("apply[1]", .transient)
        run.fire(.retry(step: "apply[1]", attempt: 2))
        run.complete("apply[1]")
        run.complete("apply[2]")
        #expect(run.state.outcome == .succeeded)
        let timeline = try RunTimeline(flow: run.reducer.flow, history: run.history)
        let stats = RunStatistics(runs: [timeline], releases: [])
        #expect(stats.steps.map(\.step) == ["apply"], "one row for the step, not one per element")
        #expect(stats.steps.first?.attempts == 4)
        #expect(stats.steps.first?.retries == 1)
        #expect(stats.steps.first?.errorClasses == [.transient: 1])
    }
}
