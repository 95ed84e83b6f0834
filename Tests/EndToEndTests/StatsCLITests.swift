import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// `keel stats` against the real PostgreSQL, on runs written through the store as the engine writes them:
/// the figures match the ones worked out by hand from the facts' times.
@Suite struct StatsCLITests: KeelCLITesting {
    static func flow(_ description: String) -> String {
        """
        flow: stats-demo
        description: \(description)
        steps:
          - id: build
            noop: {}
        """
    }

    /// Triggers a run of `version` at `base`, starts its build `queue` ms later and ends it `duration` ms
    /// after that; returns the run's id.
    func run(
        version: Int, base: Timestamp, queue: Int64, duration: Int64, failing: Bool, advancer: RunAdvancer,
        pool: PGPool
    ) async throws -> RunID {
        var generator = SystemRandomNumberGenerator()
        let id = RunID.make(millisecondsSinceEpoch: base.millisecondsSinceEpoch, using: &generator)
        let run = NewRun(
            id: id, flow: "stats-demo", version: version, input: [:], idempotencyKey: id.description,
            correlationID: "c-\(id)", actor: "ana")
        _ = try await RunStore(pool: pool).create(run, at: base, advancer: advancer) { _ in [] }
        let started = base.adding(milliseconds: queue)
        try await advancer.advance(run: id) { _ in
            RunFact(
                at: started, event: .stepStarted(step: "build", attempt: 1, executor: "e-1", leaseToken: 1))
        }
        let ended = started.adding(milliseconds: duration)
        try await advancer.advance(run: id) { _ in
            RunFact(
                at: ended,
                event: failing
                    ? .stepFailed(step: "build", attempt: 1, errorClass: .permanent, message: "broken")
                    : .stepSucceeded(step: "build", attempt: 1, outputs: [:]))
        }
        return id
    }

    @Test func statsFoldTheStoredHistoryIntoTheDocumentedFigures() async throws {
        let database = try await TestDatabase.create()
        let pool = try database.pool(size: 2)
        do {
            let migrate = try await keel(["migrate"], database: database)
            try #require(migrate.status == 0)
            for description in ["first", "second"] {
                let file = try temporaryFile(Self.flow(description))
                defer { try? FileManager.default.removeItem(atPath: file) }
                #expect(try await keel(["flow", "push", file], database: database).status == 0)
            }
            // v1 live, then v2, then rolled back to v1.
            for arguments in [
                ["release", "stats-demo", "--version", "1"], ["release", "stats-demo"],
                ["rollback", "stats-demo"],
            ] {
                #expect(try await keel(["flow"] + arguments, database: database).status == 0)
            }

            // Queue 10, 20, 30 ms; build 100, 200, 300 ms. The failed run ends at base+1220 ms, the next
            // success at base+2330 ms: 1110 ms to recover.
            let advancer = RunAdvancer(pool: pool)
            let base = Timestamp.now.adding(milliseconds: -600_000)
            let first = try await run(
                version: 1, base: base, queue: 10, duration: 100, failing: false, advancer: advancer,
                pool: pool)
            let failed = try await run(
                version: 2, base: base.adding(milliseconds: 1_000), queue: 20, duration: 200, failing: true,
                advancer: advancer, pool: pool)
            let recovered = try await run(
                version: 2, base: base.adding(milliseconds: 2_000), queue: 30, duration: 300, failing: false,
                advancer: advancer, pool: pool)
            #expect(first != failed)

            let shown = try await keel(
                ["stats", "--flow", "stats-demo", "--since", "1h", "--json"], database: database)
            try #require(shown.status == 0, "\(String(describing: shown.json))")
            let document = try #require(shown.json as? [String: Any])
            #expect(document["flow"] as? String == "stats-demo")
            let stats = try #require(document["statistics"] as? [String: Any])
            let runs = try #require(stats["runs"] as? [String: Int])
            #expect(runs == ["total": 3, "succeeded": 2, "failed": 1, "cancelled": 0, "unfinished": 0])
            #expect(stats["successRate"] as? Double == 2.0 / 3.0)
            #expect(
                stats["errorClasses"] as? [String: Int]
                    == ["transient": 0, "permanent": 1, "timeout": 0, "cancelled": 0])
            #expect(stats["retries"] as? Int == 0 && stats["runRetries"] as? Int == 0)
            let queue = try #require(stats["queueMs"] as? [String: Int])
            #expect(queue == ["count": 3, "p50": 20, "p90": 30, "p99": 30, "max": 30])
            let duration = try #require(stats["stepDurationMs"] as? [String: Int])
            #expect(duration == ["count": 3, "p50": 200, "p90": 300, "p99": 300, "max": 300])
            #expect((stats["waitMs"] as? [String: Any])?["count"] as? Int == 0)
            #expect((stats["waitMs"] as? [String: Any])?["p50"] is NSNull)
            let steps = try #require(stats["steps"] as? [[String: Any]])
            #expect(steps.map { $0["step"] as? String } == ["build"])
            #expect(steps.first?["attempts"] as? Int == 3 && steps.first?["kind"] as? String == "noop")
            #expect(steps.first?["durationMs"] as? [String: Int] == duration)

            let releases = try #require(stats["releases"] as? [[String: Any]])
            #expect(releases.map { $0["version"] as? Int } == [1, 2])
            #expect(releases.map { $0["madeLive"] as? Int } == [2, 1])
            #expect(releases.map { $0["rollbacks"] as? Int } == [0, 1])
            #expect(releases.map { ($0["runs"] as? [String: Int])?["total"] } == [1, 2])

            let recoveries = try #require(stats["recoveries"] as? [[String: Any]])
            #expect(recoveries.count == 1)
            #expect(recoveries.first?["failedRunID"] as? String == failed.description)
            #expect(recoveries.first?["recoveredRunID"] as? String == recovered.description)
            #expect(recoveries.first?["ms"] as? Int == 1_110)
            #expect((stats["timeToRecoverMs"] as? [String: Any])?["p50"] as? Int == 1_110)

            let text = try await ServiceProcess.run(
                "keel", arguments: ["stats", "--since", "1h"],
                environment: ["KEEL_DATABASE_URL": database.url])
            #expect(text.status == 0)
            for line in [
                "runs: 3 (succeeded 2, failed 1, cancelled 0, unfinished 0)", "success rate: 66.7%",
                "attempts by error class: transient 0, permanent 1, timeout 0, cancelled 0",
            ] {
                #expect(text.output.contains(line), "no '\(line)' in:\n\(text.output)")
            }
            let rows = text.output.split(separator: "\n").map {
                $0.split(separator: " ").joined(separator: " ")
            }
            #expect(rows.contains("queue time 3 0.020s 0.030s 0.030s 0.030s"), "\(text.output)")
            #expect(rows.contains("step duration 3 0.200s 0.300s 0.300s 0.300s"), "\(text.output)")
            #expect(rows.contains("time to recover 1 1.110s 1.110s 1.110s 1.110s"), "\(text.output)")
            // The one step, on its own row: 3 attempts, 1 error, durations and queue times as above.
            #expect(
                rows.contains("stats-demo build noop 3 0 1 0.200s 0.300s 0.300s 0.020s 0.030s"),
                "\(text.output)")

            let other = try await keel(["stats", "--flow", "no-such-flow", "--json"], database: database)
            #expect(other.status == 0)
            let empty = (other.json as? [String: Any])?["statistics"] as? [String: Any]
            #expect((empty?["runs"] as? [String: Int])?["total"] == 0)
            #expect(empty?["successRate"] is NSNull)

            let bad = try await keel(["stats", "--since", "yesterday", "--json"], database: database)
            #expect(bad.status == 1)
        } catch {
            await pool.close()
            try await database.drop()
            throw error
        }
        await pool.close()
        try await database.drop()
    }
}
