import AMQPClient
import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// Faults while runs are in flight. Each test checks that every run finishes, every history replays,
/// and no step whose completion was recorded ran its side effect again (counted by the steps' own
/// command, outside the engine).
@Suite(.serialized) struct EngineFaultTests {
    /// Four steps in a line, each logging its execution and then working for `input.pause` seconds.
    static let chain = """
        flow: fault-chain
        input:
          type: object
          required: [effects, pause]
          properties:
            effects: {type: string}
            pause: {type: string}
        steps:
          - id: one
            run: {command: [sh, -c, '\(RunEngineTests.effect); sleep "$1"', "${{ input.effects }}", "${{ input.pause }}"]}
          - id: two
            needs: [one]
            run: {command: [sh, -c, '\(RunEngineTests.effect); sleep "$1"', "${{ input.effects }}", "${{ input.pause }}"]}
          - id: three
            needs: [two]
            run: {command: [sh, -c, '\(RunEngineTests.effect); sleep "$1"', "${{ input.effects }}", "${{ input.pause }}"]}
          - id: four
            needs: [three]
            noop: {}
        """

    /// Triggers `count` runs of the chain.
    static func triggerChains(_ stack: EngineStack, count: Int, pause: String) async throws {
        let effects = stack.scratch.appendingPathComponent("effects").path
        for _ in 0..<count {
            try await stack.trigger(
                "fault-chain", input: #"{"effects": "\#(effects)", "pause": "\#(pause)"}"#)
        }
    }

    /// Every run succeeded, replays, and ran no completed step again.
    static func expectAllRunsSound(_ stack: EngineStack, count: Int) async throws {
        let runs = try await stack.waitForFinishedRuns("fault-chain", count: count, timeout: .seconds(180))
        #expect(runs.count == count)
        #expect(runs.values.allSatisfy { $0 == "succeeded" }, "\(runs)\n\(stack.logs)")
        for runID in runs.keys {
            try await stack.expectHistoryReplays(runID)
            try await stack.expectNoEffectAfterCompletion(runID, logging: ["one", "two", "three"])
        }
    }

    /// Waits until the steps logged at least `count` executions.
    static func waitForEffects(_ stack: EngineStack, count: Int) async throws {
        for _ in 0..<600 where stack.effects().count < count {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(stack.effects().count >= count, "the steps did not start:\n\(stack.logs)")
    }

    @Test func killingTheExecutorDuringAStepLosesNothing() async throws {
        let stack = try await EngineStack(flows: [Self.chain])
        try await Self.triggerChains(stack, count: 3, pause: "1")
        try await Self.waitForEffects(stack, count: 2)
        let victim = try #require(stack.executors.first)
        _ = await victim.stop(signal: SIGKILL)
        // The attempts it held come back after their lease (3 s) expires, on a new executor.
        try await stack.startExecutor()
        try await Self.expectAllRunsSound(stack, count: 3)
        let interrupted = Dictionary(grouping: stack.effects(), by: { "\($0.run) \($0.step)" }).filter {
            $0.value.count > 1
        }
        #expect(!interrupted.isEmpty, "no step was interrupted: the kill came too late to test anything")
        try await stack.stop()
    }

    @Test func aGracefulShutdownHandsRunningAttemptsBackAtOnce() async throws {
        // A lease far longer than the test: only the hand-back can get the attempts running again in time.
        let stack = try await EngineStack(flows: [Self.chain], lease: 600)
        try await Self.triggerChains(stack, count: 2, pause: "2")
        try await Self.waitForEffects(stack, count: 2)
        let leaving = try #require(stack.executors.first)
        let status = await leaving.stop()
        #expect(status == 0, "step-executor did not exit cleanly on SIGTERM:\n\(leaving.output)")
        #expect(leaving.output.contains("attempt handed back"))
        stack.executors.removeAll { $0 === leaving }
        try await stack.startExecutor()
        try await Self.expectAllRunsSound(stack, count: 2)
        // The handed-back attempt was claimed again with a greater fencing token.
        var tokens: [String: [Int64]] = [:]
        for runID in try await stack.waitForFinishedRuns("fault-chain", count: 2).keys {
            for fact in try await stack.history(runID) {
                if case .stepStarted(let step, let attempt, _, let token) = fact.event {
                    tokens["\(runID) \(step) \(attempt)", default: []].append(token)
                }
            }
        }
        #expect(tokens.values.contains { $0.count == 2 && $0[1] > $0[0] }, "\(tokens)")
        try await stack.stop()
    }

    @Test func anExecutorDyingAfterItsClaimCommittedButBeforeItsAckLosesNothing() async throws {
        let stack = try await EngineStack(flows: [Self.chain])
        // The first executor exits right after committing its second claim, before acking the dispatch.
        let first = try #require(stack.executors.first)
        _ = await first.stop()
        stack.executors.removeAll()
        let crashing = try await stack.startExecutor(["KEEL_FAULT_EXIT_AFTER_CLAIM": "2"])
        try await Self.triggerChains(stack, count: 2, pause: "0.2")
        for _ in 0..<600 where crashing.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!crashing.isRunning, "the fault was not injected:\n\(crashing.output)")
        stack.executors.removeAll { $0 === crashing }
        try await stack.startExecutor()
        try await Self.expectAllRunsSound(stack, count: 2)
        try await stack.stop()
    }

    /// A queue bound to every step dispatch of the `default` pool, to count what went through the broker.
    static func dispatchCounter(_ stack: EngineStack) async throws -> String {
        let queue = "dispatches-\(UUID().uuidString)"
        try await stack.channel.declareQueue(queue, durable: false, exclusive: true, autoDelete: true)
        for shard in 0..<2 {
            try await stack.channel.bindQueue(queue, exchange: "keel.steps", routingKey: "default.\(shard)")
        }
        return queue
    }

    /// The dispatches `queue` received, by step.
    static func dispatchesSent(_ stack: EngineStack, _ queue: String) async throws -> [String] {
        var steps: [String] = []
        while let delivery = try await stack.channel.get(queue: queue) {
            try await stack.channel.ack(delivery)
            let body = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any]
            steps.append(body?["step"] as? String ?? "?")
        }
        return steps
    }

    @Test func aChainContinuedInPlaceRunsEachStepOnceWithoutTheBroker() async throws {
        let stack = try await EngineStack(flows: [Self.chain])
        let counter = try await Self.dispatchCounter(stack)
        try await Self.triggerChains(stack, count: 3, pause: "0")
        try await Self.expectAllRunsSound(stack, count: 3)
        // Only each run's first step was dispatched; the executor that finished a step took the next.
        #expect(try await Self.dispatchesSent(stack, counter) == ["one", "one", "one"])
        let executions = Dictionary(grouping: stack.effects(), by: { "\($0.run) \($0.step)" }).mapValues(
            \.count)
        #expect(executions.count == 9)
        #expect(executions.values.allSatisfy { $0 == 1 }, "\(executions)")
        try await stack.stop()
    }

    @Test func anExecutorKilledInTheMiddleOfAChainContinuedInPlaceLosesNothing() async throws {
        let stack = try await EngineStack(flows: [Self.chain])
        let first = try #require(stack.executors.first)
        _ = await first.stop()
        stack.executors.removeAll()
        // Claims 1 (step one, from its dispatch) and 2 (step two, in place with step one's result) commit;
        // the process exits right after claim 2, before running step two: nothing dispatches step two.
        let counter = try await Self.dispatchCounter(stack)
        let crashing = try await stack.startExecutor(["KEEL_FAULT_EXIT_AFTER_CLAIM": "2"])
        try await Self.triggerChains(stack, count: 1, pause: "0")
        for _ in 0..<600 where crashing.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!crashing.isRunning, "the fault was not injected:\n\(crashing.output)")
        #expect(crashing.output.contains("fault injection"))
        #expect(try await Self.dispatchesSent(stack, counter) == ["one"])
        stack.executors.removeAll { $0 === crashing }
        // Its lease (3 s) expires; the sweeper dispatches step two again, with the same attempt.
        try await stack.startExecutor()
        try await Self.expectAllRunsSound(stack, count: 1)
        let run = try #require(try await stack.waitForFinishedRuns("fault-chain", count: 1).keys.first)
        var starts: [String: [Int]] = [:]
        for fact in try await stack.history(run) {
            if case .stepStarted(let step, let attempt, _, _) = fact.event {
                starts[step, default: []].append(attempt)
            }
        }
        // Step two started twice as the same attempt (the same idempotency key); the others once.
        #expect(starts["two"] == [1, 1], "\(starts)")
        // Step two went through the broker this time: the sweeper dispatched it after the lease.
        #expect(try await Self.dispatchesSent(stack, counter) == ["two"])
        #expect(starts["one"] == [1] && starts["three"] == [1] && starts["four"] == [1], "\(starts)")
        let executions = Dictionary(grouping: stack.effects(), by: \.step).mapValues(\.count)
        #expect(executions == ["one": 1, "two": 1, "three": 1], "\(executions)")
        try await stack.stop()
    }

    @Test func twoExecutorsRacingOnTheSameRunsContinueInPlaceAndRunEachStepOnce() async throws {
        // Two attempts at a time each: neither executor can take every run's first step, so both work.
        let stack = try await EngineStack(flows: [Self.chain], environment: ["KEEL_AMQP_PREFETCH": "2"])
        try await stack.startExecutor()
        try await Self.triggerChains(stack, count: 16, pause: "0")
        try await Self.expectAllRunsSound(stack, count: 16)
        // No crash here, so every step ran exactly once, whichever executor took it.
        let executions = Dictionary(grouping: stack.effects(), by: { "\($0.run) \($0.step)" }).mapValues(
            \.count)
        #expect(executions.count == 48)
        #expect(executions.values.allSatisfy { $0 == 1 }, "\(executions)")
        let executors = Set(
            try await stack.pool.withConnection { connection -> [String] in
                try await connection.query(
                    "SELECT DISTINCT lease_owner FROM step_attempts WHERE lease_owner IS NOT NULL"
                )
                .map { try $0.decode((String).self) }
            })
        #expect(executors.count == 2, "\(executors)")
        try await stack.stop()
    }

    @Test func everyDispatchDeliveredTwiceRunsEachStepOnce() async throws {
        // Every step through the broker (none continued in place), so every step's dispatch is duplicated.
        let stack = try await EngineStack(flows: [Self.chain], environment: ["KEEL_STEP_IN_PLACE_LIMIT": "0"])
        // A second consumer of every step dispatch publishes each one again: real duplicates on the queues.
        let copies = "duplicator-\(UUID().uuidString)"
        try await stack.channel.declareQueue(copies, durable: false, exclusive: true, autoDelete: true)
        for shard in 0..<2 {
            try await stack.channel.bindQueue(copies, exchange: "keel.steps", routingKey: "default.\(shard)")
        }
        let channel = stack.channel
        let duplicator = Task {
            var duplicated = 0
            while !Task.isCancelled {
                guard let delivery = try? await channel.get(queue: copies) else {
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                try? await channel.ack(delivery)
                guard delivery.properties.headers["x-test-duplicate"] == nil else { continue }
                var properties = delivery.properties
                properties.headers["x-test-duplicate"] = "1"
                try? await channel.publish(
                    delivery.body, exchange: "keel.steps", routingKey: delivery.routingKey,
                    properties: properties)
                duplicated += 1
            }
            return duplicated
        }
        try await Self.triggerChains(stack, count: 3, pause: "0.1")
        try await Self.expectAllRunsSound(stack, count: 3)
        duplicator.cancel()
        let duplicated = await duplicator.value
        #expect(duplicated >= 9, "only \(duplicated) dispatches were duplicated")
        // No crash here, so every step ran exactly once.
        let executions = Dictionary(grouping: stack.effects(), by: { "\($0.run) \($0.step)" }).mapValues(
            \.count)
        #expect(executions.count == 9)
        #expect(executions.values.allSatisfy { $0 == 1 }, "\(executions)")
        try await stack.stop()
    }
}

/// Restarts the shared RabbitMQ: runs in the test script's second pass, alone.
@Suite(.serialized) struct EngineBrokerRestartTests {
    @Test func runsFinishWhenRabbitMQRestartsMidRun() async throws {
        let stack = try await EngineStack(flows: [EngineFaultTests.chain])
        try await EngineFaultTests.triggerChains(stack, count: 3, pause: "0.5")
        try await EngineFaultTests.waitForEffects(stack, count: 2)
        _ = try await TestEnvironment.runScript("scripts/servers/rabbitmq.sh", "restart")
        try await EngineFaultTests.expectAllRunsSound(stack, count: 3)
        try await stack.stop()
    }
}

/// Restarts the shared PostgreSQL: runs in the test script's second pass, alone.
@Suite(.serialized) struct EngineServerRestartTests {
    @Test func runsFinishWhenPostgreSQLRestartsMidRun() async throws {
        let stack = try await EngineStack(flows: [EngineFaultTests.chain])
        try await EngineFaultTests.triggerChains(stack, count: 3, pause: "0.5")
        try await EngineFaultTests.waitForEffects(stack, count: 2)
        _ = try await TestEnvironment.runScript("scripts/servers/postgres.sh", "restart")
        try await EngineFaultTests.expectAllRunsSound(stack, count: 3)
        try await stack.stop()
    }
}
