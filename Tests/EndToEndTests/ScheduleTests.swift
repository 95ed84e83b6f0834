import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Schedules end to end (docs/flows.md#schedules): three trigger-intake replicas (the schedules' firers)
/// and three step-executors race on one schedule, and every tick makes exactly one run; pausing and
/// resuming, releasing a version without the schedule and rolling back move it as they should; ticks
/// missed while nothing fired them are skipped or fired once, as each schedule says.
@Suite(.serialized) struct ScheduleTests {
    static func flow(schedules: String) -> String {
        """
        flow: ticking
        input:
          type: object
          properties:
            source: {type: string, default: manual}
        \(schedules)
        steps:
          - id: only
            noop: {}
        """
    }

    static let scheduled = flow(
        schedules: """
            schedules:
              - id: tick
                every: 2s
                input: {source: schedule}
              - id: hourly-once
                every: 1h
                missed: run-once
              - id: hourly-skip
                cron: "0 * * * *"
                timezone: Europe/Berlin
            """)

    /// The runs each schedule started, by schedule id, with their ticks.
    static func scheduledRuns(_ stack: EngineStack) async throws -> [String: [(tick: String, run: String)]] {
        try await stack.pool.withConnection { connection in
            var runs: [String: [(tick: String, run: String)]] = [:]
            for row in try await connection.query(
                "SELECT idempotency_key, id::text FROM runs WHERE flow = 'ticking' ORDER BY idempotency_key")
            {
                let (key, run) = try row.decode((String, String).self)
                let parts = key.split(separator: ":", maxSplits: 2)
                guard parts.count == 3, parts[0] == "schedule" else { continue }
                runs[String(parts[1]), default: []].append(
                    (String(parts[2]), run))
            }
            return runs
        }
    }

    static func seconds(_ tick: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: tick)?.timeIntervalSince1970
    }

    @Test func everyTickMakesOneRunWhateverRacesForItAndReleasesMoveTheSchedule() async throws {
        let stack = try await EngineStack(flows: [Self.scheduled])
        do {
            try await stack.startReplica(of: .triggerIntake)
            try await stack.startReplica(of: .triggerIntake)
            try await stack.startExecutor()
            try await stack.startExecutor()
            try await Task.sleep(for: .seconds(9))

            // One run per tick, the ticks consecutive: none missed, none twice.
            let ticks = try #require(try await Self.scheduledRuns(stack)["tick"])
            #expect(ticks.count >= 3, "\(ticks.map(\.tick))")
            let times = ticks.compactMap { Self.seconds($0.tick) }.sorted()
            #expect(times.count == ticks.count)
            for (earlier, later) in zip(times, times.dropFirst()) {
                #expect(later - earlier == 2, "ticks \(earlier) and \(later) are not consecutive")
            }
            let first = try #require(ticks.first)
            let triggered = try await stack.history(first.run).compactMap { fact -> RunTrigger? in
                guard case .runTriggered(let trigger) = fact.event else { return nil }
                return trigger
            }.first
            #expect(triggered?.input == ["source": "schedule"])
            #expect(triggered?.requester == "schedule.tick@ticking")
            let finished = try await stack.waitForFinishedRuns("ticking", count: ticks.count)
            #expect(finished.values.allSatisfy { $0 == "succeeded" })

            // keel schedule list: every live schedule with its next tick.
            let listed = try await stack.keel(["schedule", "list", "--json"], database: stack.database)
            let schedules = try #require(listed.json as? [[String: Any]])
            #expect(
                Set(schedules.compactMap { $0["id"] as? String }) == ["tick", "hourly-once", "hourly-skip"])
            #expect(schedules.contains { $0["when"] as? String == "cron 0 * * * * (Europe/Berlin)" })

            // Paused: no tick fires; resumed: ticks fire again.
            #expect(
                try await stack.keel(["schedule", "pause", "ticking", "tick"], database: stack.database)
                    .status == 0)
            try await Task.sleep(for: .seconds(1))
            let atPause = try await Self.scheduledRuns(stack)["tick"]?.count ?? 0
            try await Task.sleep(for: .seconds(4))
            #expect(try await Self.scheduledRuns(stack)["tick"]?.count == atPause, "a paused schedule fired")
            #expect(
                try await stack.keel(["schedule", "resume", "ticking", "tick"], database: stack.database)
                    .status == 0)
            try await Task.sleep(for: .seconds(5))
            let afterResume = try await Self.scheduledRuns(stack)["tick"]?.count ?? 0
            #expect(afterResume > atPause, "a resumed schedule did not fire")

            // A version without schedules, released: they stop. Rolled back: they come back.
            let plain = try stack.temporaryFile(Self.flow(schedules: ""))
            #expect(try await stack.keel(["flow", "push", plain], database: stack.database).status == 0)
            #expect(
                try await stack.keel(["flow", "release", "ticking"], database: stack.database).status == 0)
            let afterRelease = try await stack.keel(["schedule", "list", "--json"], database: stack.database)
            #expect((afterRelease.json as? [Any])?.isEmpty == true)
            try await Task.sleep(for: .seconds(1))
            let released = try await Self.scheduledRuns(stack)["tick"]?.count ?? 0
            try await Task.sleep(for: .seconds(4))
            #expect(
                try await Self.scheduledRuns(stack)["tick"]?.count == released, "a removed schedule fired")
            #expect(
                try await stack.keel(["flow", "rollback", "ticking"], database: stack.database).status == 0)
            try await Task.sleep(for: .seconds(5))
            #expect(
                (try await Self.scheduledRuns(stack)["tick"]?.count ?? 0) > released,
                "rollback did not restore it")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    @Test func aMissedTickIsSkippedOrFiredOnceAsTheScheduleSays() async throws {
        let stack = try await EngineStack(flows: [Self.scheduled])
        do {
            // As if nothing had fired the hourly schedules for three hours.
            try await stack.pool.withConnection { connection in
                try await connection.execute(
                    """
                    UPDATE flow_schedules SET next_fire_at = date_trunc('hour', now()) - interval '3 hours'
                    WHERE flow = 'ticking' AND id IN ('hourly-once', 'hourly-skip')
                    """)
            }
            var runs: [String: [(tick: String, run: String)]] = [:]
            for _ in 0..<100 {
                runs = try await Self.scheduledRuns(stack)
                if runs["hourly-once"] != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(2))
            runs = try await Self.scheduledRuns(stack)
            // run-once: one run, for the latest missed tick (this hour's start); skip: none.
            let once = try #require(runs["hourly-once"])
            #expect(once.count == 1)
            let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
            #expect(once.first.flatMap { Self.seconds($0.tick) } == hour, "\(once.map(\.tick))")
            #expect(runs["hourly-skip"] == nil)
            let next = try await stack.pool.withConnection { connection in
                try await connection.query(
                    "SELECT bool_and(next_fire_at > now()) FROM flow_schedules WHERE id IN ('hourly-once', 'hourly-skip')"
                ).first?.decode((Bool).self)
            }
            #expect(next == true, "the missed schedules did not move on to their next tick")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}
