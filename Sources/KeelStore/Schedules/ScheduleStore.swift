public import Foundation
public import KeelCore
public import PGClient

/// The live schedules (`flow_schedules`): replaced when a release changes, listed, paused and resumed by
/// operators, and moved on tick by tick by `ScheduleFirer`.
public struct ScheduleStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Makes `schedules` (of the version just made live) the flow's schedules, inside the release's
    /// transaction: ids that go away are deleted, the others get the new specification and their next tick
    /// after `now`; a schedule that was paused stays paused.
    static func replace(
        flow: String, version: Int, schedules: [FlowSchedule], now: Date, on connection: PGConnection
    ) async throws {
        try await connection.execute(
            "DELETE FROM flow_schedules WHERE flow = \(flow) AND NOT (id = ANY(\(schedules.map(\.id))))")
        for schedule in schedules {
            try await connection.execute(
                """
                INSERT INTO flow_schedules (flow, id, version, spec, next_fire_at)
                VALUES (\(flow), \(schedule.id), \(version), \(PGJSON(schedule.specification.jsonString())),
                        \(schedule.nextTick(after: now)))
                ON CONFLICT (flow, id) DO UPDATE
                SET version = EXCLUDED.version, spec = EXCLUDED.spec, updated_at = now(),
                    next_fire_at = CASE WHEN flow_schedules.paused THEN NULL ELSE EXCLUDED.next_fire_at END
                """)
        }
    }

    /// Every live schedule (of one flow when given), by flow and id.
    public func list(flow: String? = nil) async throws -> [ScheduleRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM flow_schedules
                WHERE \(flow) IS NULL OR flow = \(flow) ORDER BY flow, id
                """
            ).map(Self.record)
        }
    }

    /// Pauses or resumes a schedule; a resumed schedule goes on from its next tick after now (ticks
    /// while paused are not fired). Throws `.unknownSchedule` when the flow's live release has no such
    /// schedule.
    public func setPaused(flow: String, id: String, paused: Bool, now: Date = Date()) async throws
        -> ScheduleRecord
    {
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                "SELECT spec FROM flow_schedules WHERE flow = \(flow) AND id = \(id) FOR UPDATE")
            guard let row = rows.first else { throw FlowStoreError.unknownSchedule(flow: flow, id: id) }
            let spec = try row.decode((PGJSON).self)
            let schedule = try FlowSchedule(specification: JSONValue(parsing: spec.text))
            let next = paused ? nil : schedule.nextTick(after: now)
            let updated = try await connection.query(
                """
                UPDATE flow_schedules SET paused = \(paused), next_fire_at = \(next), updated_at = now()
                WHERE flow = \(flow) AND id = \(id) RETURNING \(unescaped: Self.columns)
                """)
            return try Self.record(updated[0])
        }
    }

    /// Schedules whose next tick is due, earliest first.
    public func due(limit: Int = 50, now: Date = Date()) async throws -> [ScheduleRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM flow_schedules
                WHERE NOT paused AND next_fire_at <= \(now) ORDER BY next_fire_at LIMIT \(limit)
                """
            ).map(Self.record)
        }
    }

    /// When the earliest tick of any running schedule is due.
    public func nextDue() async throws -> Date? {
        let rows = try await pool.withConnection { connection in
            try await connection.query("SELECT min(next_fire_at) FROM flow_schedules WHERE NOT paused")
        }
        guard let row = rows.first else { return nil }
        return try row.decode((Date?).self)
    }

    /// Moves a schedule on from `tick` (compare and set: false when another replica already did, or the
    /// schedule was paused or replaced meanwhile).
    public func advance(
        flow: String, id: String, from tick: Date, to next: Date?, handled: Date, runID: RunID?
    ) async throws -> Bool {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                UPDATE flow_schedules
                SET next_fire_at = \(next), last_tick_at = \(handled),
                    last_run_id = coalesce(\(runID), last_run_id), updated_at = now()
                WHERE flow = \(flow) AND id = \(id) AND NOT paused AND next_fire_at = \(tick)
                RETURNING 1
                """
            ).isEmpty == false
        }
    }

    static let columns = "flow, spec, version, paused, next_fire_at, last_tick_at, last_run_id"

    /// Kept out of line: inlined into `list(flow:)`'s closure, this seven-column tuple decode crashes the
    /// Swift 6.3.1 optimizer (signal 11 while splitting the closure's coroutine) in release builds, the
    /// builds the Dockerfiles make. `scripts/validate release` builds them, so a crash like it fails CI.
    @inline(never) static func record(_ row: PGRow) throws -> ScheduleRecord {
        let (flow, spec, version, paused, nextFireAt, lastTickAt, lastRunID) = try row.decode(
            (String, PGJSON, Int, Bool, Date?, Date?, RunID?).self)
        return ScheduleRecord(
            flow: flow, schedule: try FlowSchedule(specification: JSONValue(parsing: spec.text)),
            version: version, paused: paused, nextFireAt: nextFireAt, lastTickAt: lastTickAt,
            lastRunID: lastRunID)
    }
}
