import AMQPClient
import Foundation
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The deployment DESIGN describes, on one machine: a 3-node RabbitMQ cluster (quorum queues on every
/// node) and two replicas of every service. Under a steady stream of triggers, the node leading the
/// trigger queue and one replica of each service are killed with SIGKILL. Every trigger the broker
/// confirmed becomes exactly one run that succeeds, and no step whose completion was recorded runs
/// again. The test prints the pause and the recovery it saw (`cluster fault report:`).
@Suite(.serialized) struct ClusterFaultTests {
    static let rate = 8
    static let streamSeconds = 30
    /// The stream goes on at least this long after the kill, however late a loaded machine gets to it, so
    /// there are runs triggered after the kill whose recovery the test can measure.
    static let afterKill = Duration.seconds(10)
    static let killAfter = Duration.seconds(10)

    @Test func killingTheTriggerQueueLeaderAndAReplicaOfEachServiceLosesNoRunAndRepeatsNoStep() async throws {
        let cluster = try await TestBrokerCluster.start(nodes: 3)
        let testbed = try CallbackTestbed()
        defer { testbed.remove() }
        do {
            let stack = try await EngineStack(
                flows: [EngineFaultTests.chain],
                environment: [
                    "KEEL_CALLBACK_KEYS": testbed.keysSetting,
                    "KEEL_CALLBACK_GATEWAY_URL": testbed.gatewayURL,
                ], startingExecutor: false, virtualHost: cluster.virtualHost)
            do {
                try await body(stack, cluster, testbed)
            } catch {
                try? await stack.stop()
                throw error
            }
            try await stack.stop()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    func body(_ stack: EngineStack, _ cluster: TestBrokerCluster, _ testbed: CallbackTestbed) async throws {
        try await stack.startExecutor()
        try await stack.startExecutor()
        let intakeReplica = try await stack.startReplica(of: .triggerIntake)
        _ = try await stack.startApprovalService()
        let approvalReplica = try await stack.startReplica(of: .approvalService)
        _ = try await stack.startCallbackGateway(port: testbed.gatewayPort)
        let gatewayReplica = try await stack.startReplica(of: .callbackGateway)

        let effects = stack.scratch.appendingPathComponent("effects").path
        let input = #"{"effects": "\#(effects)", "pause": "0.1"}"#
        let started = Date()
        let kill = KillMoment()
        let stream = Task { try await Self.publish(on: stack, input: input, until: kill) }

        try await Task.sleep(for: Self.killAfter)
        // Every work queue has a member on each node, or a node's loss could take its majority.
        let members = try await cluster.script(
            "ctl", "list_queues", "-p", "keel", "name", "members", "--no-table-headers")
        for queue in ["keel.triggers", "keel.steps.default.0", "keel.steps.default.1"] {
            #expect(members.contains(queue), "\(queue) missing: \(members)")
        }
        for line in members.split(separator: "\n") where line.hasPrefix("keel.") {
            #expect(line.components(separatedBy: "@localhost").count - 1 == 3, "not on every node: \(line)")
        }
        let leader = try #require(try await cluster.leader(of: "keel.triggers"), "no leader of keel.triggers")
        let leaderPID = try #require(try await cluster.pid(ofNode: leader))
        let killedAt = Date()
        kill.record()
        Glibc.kill(leaderPID, SIGKILL)
        for victim in [stack.executors[0], intakeReplica, approvalReplica, gatewayReplica] {
            Glibc.kill(victim.pid, SIGKILL)
        }

        // The kill took: another node leads the trigger queue (its two remaining members elected it).
        var newLeader: Int?
        for _ in 0..<30 {
            newLeader = try? await cluster.leader(of: "keel.triggers")
            if let newLeader, newLeader != leader { break }
            try await Task.sleep(for: .seconds(1))
        }
        let electedAfter = Date().timeIntervalSince(killedAt)
        #expect(newLeader != nil && newLeader != leader, "keel.triggers still led by node \(leader)")
        #expect(!stack.executors[0].isRunning && !intakeReplica.isRunning)

        let confirmed: [String: Date]
        do {
            confirmed = try await stream.value
        } catch {
            let queues =
                (try? await cluster.script(
                    "ctl", "list_queues", "-p", "keel", "name", "leader", "members", "online"))
                ?? "-"
            let status = (try? await cluster.script("ctl", "cluster_status")) ?? "-"
            Issue.record("publishing stopped: \(error)\nqueues:\n\(queues)\ncluster:\n\(status)")
            throw error
        }
        let runs = try await stack.waitForFinishedRuns(
            "fault-chain", count: confirmed.count, timeout: .seconds(300))
        // Exactly one run per confirmed trigger, and all succeeded.
        #expect(runs.count == confirmed.count, "\(runs.count) runs for \(confirmed.count) confirmed triggers")
        let keys = try await stack.pool.withConnection { connection in
            try await connection.query("SELECT idempotency_key FROM runs WHERE flow = 'fault-chain'")
                .map { try $0.decode((String).self) }
        }
        #expect(Set(keys) == Set(confirmed.keys), "a confirmed trigger has no run, or a run no trigger")
        #expect(runs.values.allSatisfy { $0 == "succeeded" }, "\(runs.filter { $0.value != "succeeded" })")
        for runID in runs.keys {
            try await stack.expectNoEffectAfterCompletion(runID, logging: ["one", "two", "three"])
        }

        // What the kill cost: the longest time no run finished, the longest time no trigger was
        // confirmed, and how long until runs finished as fast as before.
        let timings = try await stack.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT extract(epoch FROM created_at)::float8, extract(epoch FROM finished_at)::float8
                FROM runs WHERE flow = 'fault-chain' ORDER BY finished_at
                """
            ).map { row -> (created: Double, finished: Double) in
                let (created, finished) = try row.decode((Double, Double).self)
                return (created: created, finished: finished)
            }
        }
        let killTime = killedAt.timeIntervalSince1970
        let before = timings.filter { $0.created < killTime }.map { $0.finished - $0.created }.sorted()
        let median = before.isEmpty ? 0 : before[before.count / 2]
        let finishes = timings.map(\.finished)
        let finishPause =
            zip(finishes, finishes.dropFirst()).filter { $1 > killTime }.map { $1 - max($0, killTime) }.max()
            ?? 0
        let confirms = confirmed.values.sorted()
        let streamed = (confirms.last ?? started).timeIntervalSince(started)
        let publishPause =
            zip(confirms, confirms.dropFirst()).filter { $1 > killedAt }
            .map { $1.timeIntervalSince(max($0, killedAt)) }.max() ?? 0
        let recovered = timings.filter {
            $0.created > killTime && $0.finished - $0.created <= max(2 * median, 0.5)
        }
        .map(\.created).min()
        let report = String(
            format:
                "cluster fault report: %d triggers confirmed in %.0f s (%d/s), all %d runs succeeded; "
                + "node %d (trigger queue leader) and one replica of each service killed at %.1f s; "
                + "longest time without a confirmed trigger after the kill %.2f s, without a finished run %.2f s; "
                + "median trigger-to-finish latency before the kill %.2f s; runs triggered %@ after the kill "
                + "finished within 2x that again; node %d leads the trigger queue (seen %.1f s after the kill)",
            confirmed.count, streamed, Int(Double(confirmed.count) / max(streamed, 1)), runs.count, leader,
            killTime - started.timeIntervalSince1970, publishPause, finishPause, median,
            recovered.map { String(format: "%.2f s", $0 - killTime) } ?? "(never)", newLeader ?? 0,
            electedAfter)
        print(report)
        #expect(recovered != nil, "runs never finished as fast as before the kill: \(report)")
    }

    /// Publishes `rate` triggers a second for `streamSeconds`, and on until `afterKill` has passed since
    /// the kill (at most 3 minutes in all), each with publisher confirms and retried with the same
    /// idempotency key until confirmed, a retry over a connection of its own. Returns when each was
    /// confirmed.
    static func publish(on stack: EngineStack, input: String, until kill: KillMoment) async throws -> [String:
        Date]
    {
        var confirmed: [String: Date] = [:]
        let clock = ContinuousClock()
        let start = clock.now
        var index = 0
        while index < rate * streamSeconds || !kill.isPast(afterKill), clock.now < start + .seconds(180) {
            defer { index += 1 }
            try await clock.sleep(until: start + .milliseconds(index * 1000 / rate))
            let key = "cluster-\(index)"
            // Generous: on a loaded machine an election can take a while, and the pause is what we report.
            let deadline = clock.now + .seconds(180)
            var failures = 0
            while true {
                do {
                    // As docs/operations.md tells publishers: after a failure, publish again on a new channel.
                    // The stack's own channel, recovered onto another node within moments of the kill, was
                    // nacked for every publish after it (3 runs of 3 here); a fresh connection was not.
                    try await stack.trigger(
                        "fault-chain", input: input, key: key,
                        as: failures == 0 ? .stack : .account(url: stack.vhost.url))
                    confirmed[key] = Date()
                    break
                } catch {
                    failures += 1
                    guard clock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        return confirmed
    }
}

/// When the test killed the node and the replicas: the trigger stream runs on until a while after it.
final class KillMoment: Sendable {
    private let moment = Mutex<ContinuousClock.Instant?>(nil)

    func record() { moment.withLock { $0 = .now } }

    /// Whether the kill happened at least `duration` ago (false before the kill).
    func isPast(_ duration: Duration) -> Bool {
        moment.withLock { $0.map { ContinuousClock.now >= $0 + duration } ?? false }
    }
}
