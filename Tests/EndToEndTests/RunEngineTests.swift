import AMQPClient
import Foundation
import KeelCore
import KeelTestSupport
import PGClient
import Testing

/// Runs through the real services: trigger-intake creates them, step-executors run their steps, and the
/// history they leave replays to the same state (DESIGN invariants 2 and 5).
@Suite(.serialized) struct RunEngineTests {
    /// A step command that logs one line per execution (`<run> <step> <attempt> <ms>`) to the file given
    /// as `$0`, so a test can count side effects independently of the engine's own records. The file is
    /// made writable by all: each attempt runs as a uid of its own.
    static let effect = #"(umask 0; echo "$KEEL_RUN_ID $KEEL_STEP $KEEL_ATTEMPT $(date +%s%3N)" >> "$0")"#

    static let demo = """
        flow: engine-demo
        input:
          type: object
          required: [effects, marker]
          properties:
            effects: {type: string}
            marker: {type: string}
        steps:
          - id: prepare
            run:
              command: [sh, -c, '\(effect); echo "{\\"n\\": 41}" > "$KEEL_OUTPUT"', "${{ input.effects }}"]
          - id: flaky
            needs: [prepare]
            retry: {max_attempts: 3, initial: 200ms, backoff: fixed}
            run:
              command: [sh, -c, '\(effect); if [ ! -e "$1" ]; then touch "$1"; exit 3; fi', "${{ input.effects }}", "${{ input.marker }}"]
          - id: left
            needs: [flaky]
            noop: {}
          - id: right
            needs: [flaky]
            run:
              command: [sh, -c, '\(effect); test "$1" = 41', "${{ input.effects }}", "${{ steps.prepare.outputs.n }}"]
          - id: on-failure
            needs: [flaky]
            if: ${{ steps.flaky.status == 'failed' }}
            noop: {}
          - id: join
            needs: [left, right]
            run:
              command: [sh, -c, '\(effect)', "${{ input.effects }}"]
        """

    static let slow = """
        flow: engine-slow
        steps:
          - id: sleepy
            run: {command: [sleep, "30"], timeout: 1s}
          - id: after
            needs: [sleepy]
            noop: {}
        """

    @Test func aTriggerRunsAMultiStepFlowToSuccessWithARetryAndASkip() async throws {
        let stack = try await EngineStack(flows: [Self.demo])
        let replies = "replies-\(UUID().uuidString)"
        try await stack.channel.declareQueue(replies, durable: false, exclusive: true, autoDelete: true)
        let effects = stack.scratch.appendingPathComponent("effects").path
        let marker = stack.scratch.appendingPathComponent("marker").path
        try await stack.trigger(
            "engine-demo", input: #"{"effects": "\#(effects)", "marker": "\#(marker)"}"#, replyTo: replies)
        let runs = try await stack.waitForFinishedRuns("engine-demo", count: 1)
        let (runID, status) = try #require(runs.first)
        #expect(status == "succeeded", "\(stack.logs)")

        let facts = try await stack.history(runID)
        let kinds = facts.map {
            "\($0.event.kind) \($0.event.step ?? "-") \($0.event.attempt.map(String.init) ?? "-")"
        }
        #expect(kinds.contains("step.failed flaky 1"))
        #expect(kinds.contains("step.retry_scheduled flaky 2"))
        #expect(kinds.contains("step.succeeded flaky 2"))
        #expect(kinds.contains("step.skipped on-failure -"))
        #expect(kinds.contains("step.succeeded join 1"))
        #expect(kinds.last == "run.finished - -")
        let started = facts.compactMap { fact -> String? in
            if case .stepStarted(let step, _, _, _) = fact.event { return step }
            return nil
        }
        // Every step ran in an order its needs allow.
        #expect(started.firstIndex(of: "prepare")! < started.firstIndex(of: "flaky")!)
        #expect(started.firstIndex(of: "right")! < started.firstIndex(of: "join")!)
        let ran = Dictionary(grouping: stack.effects().filter { $0.run == runID }, by: \.step).mapValues(
            \.count)
        #expect(ran == ["prepare": 1, "flaky": 2, "right": 1, "join": 1])
        try await stack.expectHistoryReplays(runID)
        try await stack.expectNoEffectAfterCompletion(runID, logging: ["prepare", "flaky", "right", "join"])

        // The trigger's reply_to got the acceptance, then the outcome.
        var answers: [String] = []
        for _ in 0..<100 where answers.count < 2 {
            if let delivery = try await stack.channel.get(queue: replies) {
                let body = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any]
                answers.append("\(body?["type"] ?? "") \(body?["outcome"] ?? "-")")
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(answers == ["run.accepted -", "run.finished succeeded"])
        try await stack.stop()
    }

    static let limited = """
        flow: engine-limited
        concurrency: {key: "${{ input.group }}", limit: 2}
        input:
          type: object
          required: [group, log]
          properties:
            group: {type: string}
            log: {type: string}
        steps:
          - id: work
            run:
              command: [sh, -c, 'umask 0; echo "$1 start $(date +%s%3N)" >> "$0"; sleep 0.3; echo "$1 end $(date +%s%3N)" >> "$0"', "${{ input.log }}", "${{ input.group }}"]
          - id: check
            needs: [work]
            noop: {}
        """

    @Test func twentyRunsLimitedToTwoPerKeyNeverRunMoreThanTwoPerKey() async throws {
        let stack = try await EngineStack(flows: [Self.limited])
        let log = stack.scratch.appendingPathComponent("intervals").path
        for index in 0..<20 {
            try await stack.trigger(
                "engine-limited",
                input: #"{"group": "\#(index % 2 == 0 ? "red" : "blue")", "log": "\#(log)"}"#)
        }
        let runs = try await stack.waitForFinishedRuns("engine-limited", count: 20, timeout: .seconds(180))
        #expect(runs.values.filter { $0 == "succeeded" }.count == 20, "\(runs)")
        // The most steps of one group between a start and an end, from the steps' own log.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ")
        }
        var peak: [String: Int] = [:]
        for group in ["red", "blue"] {
            let events = lines.filter { $0.first.map(String.init) == group }.compactMap {
                parts -> (Int64, Int)? in
                guard parts.count == 3, let at = Int64(parts[2]) else { return nil }
                return (at, parts[1] == "start" ? 1 : -1)
            }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }  // at equal times, an end before a start
            #expect(events.count == 20, "\(group): \(events.count) log lines")
            var running = 0
            for event in events {
                running += event.1
                peak[group] = max(peak[group] ?? 0, running)
            }
        }
        #expect(peak.values.allSatisfy { $0 <= 2 }, "more than two at once: \(peak)")
        #expect(peak.values.contains(2), "the limit was never reached, so nothing was tested: \(peak)")
        for runID in runs.keys.prefix(3) { try await stack.expectHistoryReplays(runID) }
        try await stack.stop()
    }

    static let pools = """
        flow: engine-pools
        steps:
          - id: anywhere
            noop: {}
          - id: on-gpu
            needs: [anywhere]
            runs_on: [gpu, linux]
            noop: {}
        """

    @Test func aStepWithRunsOnGoesOnlyToAnExecutorOfThatPool() async throws {
        let stack = try await EngineStack(flows: [Self.pools])
        try await stack.startExecutor(["KEEL_STEP_POOL": "linux,gpu"])
        try await stack.trigger("engine-pools")
        let runs = try await stack.waitForFinishedRuns("engine-pools", count: 1)
        let (runID, status) = try #require(runs.first)
        #expect(status == "succeeded", "\(stack.logs)")
        let attempts = try await stack.pool.withConnection { connection in
            try await connection.query(
                "SELECT step, pool, lease_owner FROM step_attempts WHERE run_id = \(UUID(uuidString: runID))"
            ).map { try $0.decode((String, String, String).self) }
        }
        let byStep = Dictionary(uniqueKeysWithValues: attempts.map { ($0.0, ($0.1, $0.2)) })
        #expect(byStep["anywhere"]?.0 == "default")
        #expect(byStep["on-gpu"]?.0 == "gpu+linux")
        // Two executors, each consuming only its own pool's queues: different holders.
        #expect(byStep["anywhere"]?.1 != byStep["on-gpu"]?.1)
        try await stack.stop()
    }

    @Test func aStepOverItsTimeoutIsKilledAndFailsTheRun() async throws {
        let stack = try await EngineStack(flows: [Self.slow])
        try await stack.trigger("engine-slow")
        let runs = try await stack.waitForFinishedRuns("engine-slow", count: 1)
        let (runID, status) = try #require(runs.first)
        #expect(status == "failed")
        let facts = try await stack.history(runID)
        let failure = facts.compactMap { fact -> (ErrorClass, String)? in
            if case .stepFailed("sleepy", 1, let errorClass, let message) = fact.event {
                return (errorClass, message)
            }
            return nil
        }.first
        #expect(failure?.0 == .timeout, "\(facts.map(\.event.kind))")
        #expect(facts.contains { $0.event == .stepSkipped(step: "after", reason: "need 'sleepy' failed") })
        // Killed at its 1 s limit, not after its 30 s of sleep.
        let started = facts.first { $0.event.kind == "step.started" }?.at.millisecondsSinceEpoch ?? 0
        let failed = facts.first { $0.event.kind == "step.failed" }?.at.millisecondsSinceEpoch ?? .max
        #expect(failed - started < 25_000)
        try await stack.expectHistoryReplays(runID)
        try await stack.stop()
    }
}
