import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import SSHClient
import Testing

@testable import step_executor

/// `ssh.reap` messages reach the reaper through the step queues' handler: a job is stopped and the
/// message acked; a body that is not a request, or a host the executor does not know, is dead-lettered.
@Suite("ssh.reap deliveries")
struct SSHReapDeliveryTests {
    @Test("the step consumer's handler reaps the job of an ssh.reap message")
    func reapsThroughTheHandler() async throws {
        let host = try SSHTestHost()
        let attempt = work(SSHStepExecutorTests.sleeperStep())
        let started = await host.executor.execute(attempt)
        let pid = try #require(
            started.outputs?["pid"]?.int64Value.flatMap { Int(exactly: $0) }, "failed: \(started.message)")

        let database = try await TestDatabase.create()
        let pool = try database.pool(size: 2)
        do {
            try await Self.check(host: host, attempt: attempt, pid: pid, pool: pool)
        } catch {
            await pool.close()
            try await database.drop()
            throw error
        }
        await pool.close()
        try await database.drop()
        try await host.removeJobFiles(of: attempt)
    }

    static func check(host: SSHTestHost, attempt: StepWork, pid: Int, pool: PGPool) async throws {
        let runner = StepRunner(
            attempts: AttemptStore(advancer: RunAdvancer(pool: pool)),
            kinds: StepKinds(
                resources: ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool)),
                secrets: host.secrets, logger: host.logs.logger, sshHosts: SSHHosts([host.host]),
                callbacks: host.callbacks),
            maxInFlight: 1, executorID: "test", logger: host.logs.logger)
        let request = SSHStepExecutorTests.reapRequest(attempt, pid: pid)
        let handled = try await runner.handle(Self.delivery(request.json.jsonBytes()))
        #expect(handled == .ack)
        try await host.withSession { session async throws in
            #expect(try await SSHTestHost.eventually { try await !host.isRunning(pid, on: session) })
        }

        let malformed = try await runner.handle(Self.delivery(Array(#"{"run_id": "x"}"#.utf8)))
        #expect(malformed.isDeadLetter)
        var elsewhere = request
        elsewhere.host = "not-configured"
        let unknown = try await runner.handle(Self.delivery(elsewhere.json.jsonBytes()))
        #expect(unknown.isDeadLetter)
    }

    static func delivery(_ body: [UInt8]) -> AMQPDelivery {
        AMQPDelivery(
            body: body,
            properties: AMQPProperties(headers: ["keel-schema": "1", "keel-type": "ssh.reap"]),
            exchange: "keel.steps", routingKey: "default.0")
    }
}

extension DeliveryDisposition {
    var isDeadLetter: Bool {
        if case .deadLetter = self { true } else { false }
    }
}
