import AMQPClient
import Foundation
import KeelBus
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// Backpressure that holds (DESIGN: full queues refuse publishes): a flood of triggers while no
/// step-executor runs. The work queues hold at most their limit (`keel broker limits`), publishes beyond it
/// are nacked — the flood's publisher retries, the outbox keeps the dispatches it could not publish — so
/// nothing is lost, the broker's memory stays bounded and no alarm is raised; once executors start, every
/// run finishes. `KEEL_FLOOD_TRIGGERS` sets the size (default 10,000; RESULTS.md has figures for 10,000 and
/// 50,000). The test prints `flood report:`.
@Suite(.serialized) struct FloodTests {
    static var count: Int { Int(TestEnvironment.value("KEEL_FLOOD_TRIGGERS") ?? "") ?? 10_000 }
    static let limit = 2_000

    static let flow = """
        flow: flood
        steps:
          - id: only
            noop: {}
        """

    @Test func aFloodWithNoExecutorWaitsInBoundedQueuesAndEveryRunFinishesOnceExecutorsStart() async throws {
        let stack = try await EngineStack(flows: [Self.flow], startingExecutor: false)
        do {
            try await body(stack)
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    func body(_ stack: EngineStack) async throws {
        let limited = try await stack.keel(
            ["broker", "limits", "--max-length", "\(Self.limit)", "--vhost", stack.vhost.name, "--json"])
        try #require(limited.status == 0, "keel broker limits failed")
        let count = Self.count
        let memory = MemorySampler(intake: stack.intake.pid)
        let sampling = Task { await memory.sample(every: .milliseconds(500)) }
        let clock = ContinuousClock()
        let started = clock.now

        // The flood, 256 publishes in flight; a nack (a full trigger queue) is retried with the same key.
        // Each publish reports how many nacks it met before its confirm.
        @Sendable func publish(_ index: Int) async throws -> Int {
            var nacked = 0
            while true {
                do {
                    try await stack.trigger("flood", key: "flood-\(index)")
                    return nacked
                } catch let error as AMQPError where error.code == .nacked {
                    nacked += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        let nacks = try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            var nacks = 0
            while next < min(256, count) {
                let index = next
                group.addTask { try await publish(index) }
                next += 1
            }
            while let nacked = try await group.next() {
                nacks += nacked
                if next < count {
                    let index = next
                    group.addTask { try await publish(index) }
                    next += 1
                }
            }
            return nacks
        }
        let published = clock.now - started

        // Every trigger became a run (none lost), while the step queues stayed within their limit.
        let created = try await waitForRuns(stack, count: count, timeout: .seconds(900))
        #expect(created == count, "\(created) runs for \(count) confirmed triggers")
        let intakeDone = clock.now - started
        let queues = try await queueLengths(stack)
        let stepQueues = queues.filter { $0.key.hasPrefix("keel.steps.") }
        // A quorum queue applies its limit as commands reach its log: publishes already in flight when it
        // fills are still taken (the relay has at most a batch of 200 in flight), so it may end a few over.
        #expect(!stepQueues.isEmpty && stepQueues.values.allSatisfy { $0 <= Self.limit + 200 }, "\(queues)")
        let backlog = try await outboxBacklog(stack)
        if count > 2 * Self.limit {
            #expect(backlog > 0, "nothing waited in the outbox: the limit did not hold")
        }
        let alarms = try await TestEnvironment.runScript(
            "scripts/servers/rabbitmqctl", "eval", "rabbit_alarm:get_alarms().")
        #expect(alarms.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "broker alarms: \(alarms)")

        // Executors start: every run finishes, each exactly once.
        try await stack.startExecutor()
        try await stack.startExecutor()
        let runs = try await stack.waitForFinishedRuns("flood", count: count, timeout: .seconds(1200))
        #expect(runs.count == count)
        #expect(runs.values.allSatisfy { $0 == "succeeded" })
        let drained = clock.now - started
        sampling.cancel()
        let peaks = await memory.peaks
        print(
            "flood report: \(count) triggers (\(nacks) publishes nacked and retried) "
                + "confirmed in \(published); all runs created by \(intakeDone) with no executor running; then "
                + "step queues \(stepQueues.values.sorted()) (limit \(Self.limit)), \(backlog) dispatches waiting "
                + "in the outbox, broker alarms \(alarms.trimmingCharacters(in: .whitespacesAndNewlines)); "
                + "peak RSS broker \(peaks.broker / 1_048_576) MiB, trigger-intake \(peaks.intake / 1_048_576) MiB; "
                + "executors started: all \(runs.count) runs succeeded by \(drained)")
    }

    func waitForRuns(_ stack: EngineStack, count: Int, timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var created = 0
        while ContinuousClock.now < deadline {
            created = try await stack.pool.withConnection { connection in
                try await connection.query("SELECT count(*)::int8 FROM runs WHERE flow = 'flood'")[0].decode(
                    (Int).self)
            }
            if created >= count { return created }
            try await Task.sleep(for: .milliseconds(500))
        }
        return created
    }

    func queueLengths(_ stack: EngineStack) async throws -> [String: Int] {
        let listing = try await TestEnvironment.runScript(
            "scripts/servers/rabbitmqctl", "list_queues", "-p", stack.vhost.name, "name", "messages",
            "--no-table-headers")
        var lengths: [String: Int] = [:]
        for line in listing.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 2, let messages = Int(fields[1]) { lengths[String(fields[0])] = messages }
        }
        return lengths
    }

    func outboxBacklog(_ stack: EngineStack) async throws -> Int {
        try await stack.pool.withConnection { connection in
            try await connection.query("SELECT count(*)::int8 FROM outbox")[0].decode((Int).self)
        }
    }
}

/// Peak resident memory of the test broker and of trigger-intake while the flood runs.
actor MemorySampler {
    let intake: Int32
    private(set) var peaks = (broker: 0, intake: 0)

    init(intake: Int32) {
        self.intake = intake
    }

    func sample(every interval: Duration) async {
        let state =
            TestEnvironment.value("KEEL_STATE_DIR")
            ?? TestEnvironment.packageRoot.appendingPathComponent(".keel").path
        let brokerPID = (try? String(contentsOfFile: state + "/rabbitmq/node.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        while !Task.isCancelled {
            if let brokerPID, let rss = Self.resident(brokerPID) { peaks.broker = max(peaks.broker, rss) }
            if let rss = Self.resident(intake) { peaks.intake = max(peaks.intake, rss) }
            try? await Task.sleep(for: interval)
        }
    }

    static func resident(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }
}
