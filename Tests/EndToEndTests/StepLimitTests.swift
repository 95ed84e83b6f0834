import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// The limits on running steps, end to end: a step's `concurrency` holds across runs, its `queue_timeout`
/// runs while it waits for a slot, and an executor runs at most its prefetch (`AttemptLimit`) at once.
/// Each limit is read from the steps' own log of starts and ends, outside the engine.
@Suite(.serialized) struct StepLimitTests {
    /// The largest number of intervals of one group open at once, from `<group> start|end <ms>` lines.
    static func peaks(_ log: String) throws -> [String: Int] {
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ")
        }
        var events: [String: [(Int64, Int)]] = [:]
        for parts in lines where parts.count == 3 {
            guard let at = Int64(parts[2]) else { continue }
            events[String(parts[0]), default: []].append((at, parts[1] == "start" ? 1 : -1))
        }
        var peaks: [String: Int] = [:]
        for (group, list) in events {
            var running = 0
            // At equal times an end comes before a start.
            for event in list.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                running += event.1
                peaks[group] = max(peaks[group] ?? 0, running)
            }
        }
        return peaks
    }

    static let interval =
        #"umask 0; echo "$1 start $(date +%s%3N)" >> "$0"; sleep "$2"; echo "$1 end $(date +%s%3N)" >> "$0""#

    static let stepLimited = """
        flow: step-limited
        input:
          type: object
          required: [group, log]
          properties:
            group: {type: string}
            log: {type: string}
        steps:
          - id: prepare
            noop: {}
          - id: work
            needs: [prepare]
            concurrency: {key: "${{ input.group }}", limit: 2}
            run:
              command: [sh, -c, '\(interval)', "${{ input.log }}", "${{ input.group }}", "0.4"]
        """

    @Test func aStepsConcurrencyLimitHoldsAcrossRunsPerKey() async throws {
        let stack = try await EngineStack(flows: [Self.stepLimited])
        do {
            try await stack.startExecutor()
            let log = stack.scratch.appendingPathComponent("intervals").path
            for index in 0..<12 {
                try await stack.trigger(
                    "step-limited",
                    input: #"{"group": "\#(index % 2 == 0 ? "red" : "blue")", "log": "\#(log)"}"#)
            }
            let runs = try await stack.waitForFinishedRuns("step-limited", count: 12, timeout: .seconds(180))
            #expect(runs.values.allSatisfy { $0 == "succeeded" }, "\(runs)")
            let peaks = try Self.peaks(log)
            #expect(peaks.values.allSatisfy { $0 <= 2 }, "more than two of a key at once: \(peaks)")
            #expect(peaks.values.contains(2), "the limit was never reached, so nothing was tested: \(peaks)")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    static let queueTimed = """
        flow: queue-timed
        input:
          type: object
          required: [log, seconds]
          properties:
            log: {type: string}
            seconds: {type: string}
        steps:
          - id: work
            concurrency: {key: only-one, limit: 1}
            queue_timeout: 1s
            run:
              command: [sh, -c, '\(interval)', "${{ input.log }}", slot, "${{ input.seconds }}"]
        """

    @Test func aStepWaitingForASlotFailsWhenItsQueueTimeoutPasses() async throws {
        let stack = try await EngineStack(flows: [Self.queueTimed])
        do {
            try await stack.startExecutor()
            let log = stack.scratch.appendingPathComponent("intervals").path
            // The first holds the only slot for 6 s; the second waits for it and gives up after 1 s.
            try await stack.trigger(
                "queue-timed", input: #"{"log": "\#(log)", "seconds": "6"}"#, key: "holder")
            let holder = try await stack.runID(key: "holder", flow: "queue-timed")
            for _ in 0..<100 where (try? String(contentsOfFile: log, encoding: .utf8)) == nil {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await stack.trigger(
                "queue-timed", input: #"{"log": "\#(log)", "seconds": "0"}"#, key: "waiter")
            let waiter = try await stack.runID(key: "waiter", flow: "queue-timed")
            #expect(try await stack.finish(waiter, expected: "failed") == "failed")
            let timeouts = try await stack.history(waiter).compactMap { fact -> TimeoutKind? in
                guard case .stepTimedOut(_, _, let kind) = fact.event else { return nil }
                return kind
            }
            #expect(timeouts == [.queue], "\(timeouts)")
            // It failed while the holder still ran: the timeout ran during the wait, not after it.
            #expect(try await stack.status(holder) == "running")
            #expect(try await stack.finish(holder, expected: "succeeded") == "succeeded")
            let starts = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter {
                $0.contains(" start ")
            }
            #expect(starts.count == 1, "the timed-out step ran anyway: \(starts)")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    static let sleeper = """
        flow: sleeper
        input:
          type: object
          required: [log]
          properties:
            log: {type: string}
        steps:
          - id: work
            run:
              command: [sh, -c, '\(interval)', "${{ input.log }}", executor, "0.5"]
        """

    @Test func anExecutorRunsAtMostItsPrefetchOfAttemptsAtOnce() async throws {
        let stack = try await EngineStack(flows: [Self.sleeper], startingExecutor: false)
        do {
            try await stack.startExecutor(["KEEL_AMQP_PREFETCH": "3"])
            let log = stack.scratch.appendingPathComponent("intervals").path
            for _ in 0..<12 {
                try await stack.trigger("sleeper", input: #"{"log": "\#(log)"}"#)
            }
            let runs = try await stack.waitForFinishedRuns("sleeper", count: 12, timeout: .seconds(180))
            #expect(runs.values.allSatisfy { $0 == "succeeded" }, "\(runs)")
            let peak = try Self.peaks(log)["executor"] ?? 0
            #expect(peak <= 3, "\(peak) attempts ran at once in an executor with prefetch 3")
            #expect(peak == 3, "the limit was never reached, so nothing was tested: \(peak)")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}
