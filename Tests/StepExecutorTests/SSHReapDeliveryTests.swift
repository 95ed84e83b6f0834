import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import SSHClient
import Synchronization
import Testing

@testable import step_executor

/// `ssh.reap` messages reach the reaper through the step queues' handler: a job is stopped and the
/// message acked; a body that is not a request is dead-lettered; a host the executor does not know or
/// cannot reach sends the message back to its queue, whose delivery limit bounds the tries.
@Suite("ssh.reap deliveries")
struct SSHReapDeliveryTests {
    @Test("the step consumer's handler reaps the job of an ssh.reap message")
    func reapsThroughTheHandler() async throws {
        let host = try SSHTestHost()
        let attempt = work(SSHStepExecutorTests.sleeperStep())
        try await host.cleaningUp(after: [attempt]) {
            let started = await host.executor.execute(attempt)
            let pid = try #require(
                started.outputs?["pid"]?.int64Value.flatMap { Int(exactly: $0) }, "failed: \(started.message)"
            )

            try await withDatabase(poolSize: 2) { pool in
                try await Self.check(host: host, attempt: attempt, pid: pid, pool: pool)
            }
        }
    }

    static func check(host: SSHTestHost, attempt: StepWork, pid: Int, pool: PGPool) async throws {
        let runner = StepRunner(
            attempts: AttemptStore(advancer: RunAdvancer(pool: pool)),
            kinds: StepKinds(
                resources: ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool)),
                secrets: host.secrets, logger: host.logs.logger, sshHosts: SSHHosts([host.host]),
                callbacks: host.callbacks),
            maxInFlight: 1, executorID: "test", pool: "default", logger: host.logs.logger,
            reapRetryPause: .milliseconds(10))
        let request = SSHStepExecutorTests.reapRequest(attempt, pid: pid)
        let handled = try await runner.handle(Self.delivery(request.json.jsonBytes()))
        #expect(handled == .ack)
        try await host.withSession { session async throws in
            #expect(try await eventually { try await !host.isRunning(pid, on: session) })
        }

        let malformed = try await runner.handle(Self.delivery(Array(#"{"run_id": "x"}"#.utf8)))
        #expect(malformed.isDeadLetter)
        var elsewhere = request
        elsewhere.host = "not-configured"
        // Another executor of the pool may have the host: the request goes back to the queue.
        let unknown = try await runner.handle(Self.delivery(elsewhere.json.jsonBytes()))
        #expect(unknown.isRequeue)
    }

    @Test("a reap for a host nobody listens on goes back to its queue, then to the dead letters")
    func unreachableHostIsRequeued() async throws {
        let host = try SSHTestHost()
        var unreachable = host.host
        unreachable.name = "unreachable"
        unreachable.port = 1  // tcpmux: nothing listens there on the test machines
        let attempt = work(SSHStepExecutorTests.sleeperStep())
        var request = SSHStepExecutorTests.reapRequest(attempt, pid: 4242)
        request.host = unreachable.name

        try await withDatabase(poolSize: 2) { pool in
            let runner = StepRunner(
                attempts: AttemptStore(advancer: RunAdvancer(pool: pool)),
                kinds: StepKinds(
                    resources: ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool)),
                    secrets: host.secrets, logger: host.logs.logger,
                    sshHosts: SSHHosts([host.host, unreachable]), callbacks: host.callbacks),
                maxInFlight: 1, executorID: "test", pool: "default", logger: host.logs.logger,
                reapRetryPause: .milliseconds(100))
            try await Self.checkRequeued(request, runner: runner)
        }
    }

    /// Runs a real ``DeliveryConsumer`` over a queue of its own with a delivery limit of 1: the request is
    /// delivered twice (the second time as a redelivery), then lands in the dead-letter queue.
    static func checkRequeued(_ request: SSHReapRequest, runner: StepRunner) async throws {
        let url = try AMQPConfiguration(url: TestEnvironment.require("KEEL_AMQP_URL"))
        let logger = Logger(label: "test")
        let queue = KeelQueue(name: "keel.test.reap.\(UUID().uuidString)", deliveryLimit: 1)
        let declaration = KeelDeclaration(
            exchanges: [KeelTopology.deadLetters], queues: [queue], bindings: [])
        let control = try await AMQPConnection.connect(url, logger: logger)
        let consuming = try await AMQPConnection.connect(url, logger: logger)
        let channel = try await control.openChannel()
        try await declaration.declare(on: channel)

        let deliveries = RedeliveryLog()
        let consumer = DeliveryConsumer(
            name: "test consumer", declaration: declaration, queues: [queue.name], prefetch: 1,
            connection: { consuming }, logger: logger
        ) { delivery in
            deliveries.record(delivery)
            return try await runner.handle(delivery)
        }
        let body = request.json.jsonBytes()
        var deadLetter: AMQPDelivery?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                try await channel.publish(
                    body, exchange: "", routingKey: queue.name,
                    properties: AMQPProperties(headers: ["keel-schema": "1", "keel-type": "ssh.reap"]))
                // Before the fix the handler kept the delivery forever: nothing ever reached the dead letters.
                _ = await eventually(within: .seconds(120)) {
                    deadLetter = try? await channel.get(queue: queue.deadLetterQueue)
                    return deadLetter != nil
                }
                group.cancelAll()
                await consuming.close()
            }
        } catch {
            await consuming.close()
            try? await channel.deleteQueue(queue.name)
            try? await channel.deleteQueue(queue.deadLetterQueue)
            await control.close()
            throw error
        }
        let dead = try #require(deadLetter, "the request never reached \(queue.deadLetterQueue)")
        try await channel.ack(dead)
        #expect(dead.body == body)
        #expect(deliveries.redelivered == [false, true])
        try await channel.deleteQueue(queue.name)
        try await channel.deleteQueue(queue.deadLetterQueue)
        await control.close()
    }

    static func delivery(_ body: [UInt8]) -> AMQPDelivery {
        AMQPDelivery(
            body: body,
            properties: AMQPProperties(headers: ["keel-schema": "1", "keel-type": "ssh.reap"]),
            exchange: "keel.steps", routingKey: "default.0")
    }
}

/// The `redelivered` flag of every delivery a handler saw, in order.
final class RedeliveryLog: Sendable {
    private let flags = Mutex<[Bool]>([])

    var redelivered: [Bool] { flags.withLock { $0 } }

    func record(_ delivery: AMQPDelivery) { flags.withLock { $0.append(delivery.redelivered) } }
}

extension DeliveryDisposition {
    var isDeadLetter: Bool {
        if case .deadLetter = self { true } else { false }
    }

    var isRequeue: Bool {
        if case .requeue = self { true } else { false }
    }
}
