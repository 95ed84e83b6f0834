import Foundation
import Testing

@testable import KeelCore

/// A realistic run for the picture tests and the sample under docs/: the gpu-benchmark example's shape
/// (a build that is retried after a transient failure, an ssh job that waits for its callback with
/// heartbeats), then an approval and a report, over about half an hour.
enum SampleRun {
    static let flow = """
        flow: gpu-benchmark
        steps:
          - id: build
            run: {command: [./ci/build.sh]}
            retry: {max_attempts: 2, initial: 10s, jitter: false, on: [transient]}
          - id: bench
            needs: [build]
            ssh: {host: gpu-1, command: [./bench/start.sh]}
            wait: {timeout: 4h, heartbeat: 5m}
          - id: review
            needs: [bench]
            approval: {approvers: [bob], summary: "Publish the benchmark?"}
          - id: report
            needs: [review]
            run: {command: [./ci/report.py]}
        """

    /// The run, finished; `until` stops feeding facts once the clock passes it (milliseconds after the
    /// trigger), leaving the run in flight.
    static func harness(until: Int64 = .max) throws -> EngineHarness {
        var run = try EngineHarness(flow)
        let origin = run.now
        func past() -> Bool { run.now - origin > until }
        run.trigger(input: ["commit": "4f2a9c1"], actor: "alice")
        run.advance(ms: 1_500)
        run.start("build")
        run.advance(ms: 95_000)
        if past() { return run }
        run.fail("build", .transient, message: "runner lost: connection reset")
        run.fire(.retry(step: "build", attempt: 2))
        run.advance(ms: 2_200)
        run.start("build")
        run.advance(ms: 110_000)
        if past() { return run }
        run.succeed("build", outputs: ["artifact": "model.tar.zst"])
        run.advance(ms: 4_000)
        run.start("bench")
        run.advance(ms: 3_000)
        run.succeed("bench")
        let waitID = run.step("bench").waitID ?? ""
        for _ in 0..<3 {
            run.advance(ms: 300_000)
            if past() { return run }
            run.feed(.callbackReceived(step: "bench", waitID: waitID, status: .heartbeat, output: nil))
        }
        run.advance(ms: 240_000)
        if past() { return run }
        run.feed(
            .callbackReceived(
                step: "bench", waitID: waitID, status: .succeeded,
                output: ["p50_ms": 12.5, "p99_ms": 31.0, "iterations": 1_000]))
        let approvalID = run.step("review").approvalID ?? ""
        run.advance(ms: 420_000)
        if past() { return run }
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .approve, actor: "bob",
                note: "p99 within budget"))
        run.advance(ms: 1_800)
        run.start("report")
        run.advance(ms: 21_000)
        run.succeed("report", outputs: ["report": "report.md"])
        return run
    }

    static func timeline(until: Int64 = .max) throws -> RunTimeline {
        let run = try harness(until: until)
        return try RunTimeline(flow: run.reducer.flow, history: run.history)
    }
}
