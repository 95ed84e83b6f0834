import Foundation
import KeelCore
import Testing

@Suite("Schedules")
struct FlowScheduleTests {
    static func date(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func ticks(_ cron: String, zone: String = "UTC", after start: String, count: Int) throws
        -> [String]
    {
        let expression = try CronExpression(parsing: cron)
        let timeZone = try #require(TimeZone(identifier: zone))
        var ticks: [String] = []
        var date = Self.date(start)
        for _ in 0..<count {
            guard let next = expression.next(after: date, in: timeZone) else { break }
            ticks.append(FlowSchedule.tickText(next))
            date = next
        }
        return ticks
    }

    @Test("cron ticks follow the five fields, strictly after the given time")
    func cronTicks() throws {
        #expect(
            try Self.ticks("*/15 9-10 * * *", after: "2026-12-07T09:15:00Z", count: 4) == [
                "2026-12-07T09:30:00Z", "2026-12-07T09:45:00Z", "2026-12-07T10:00:00Z",
                "2026-12-07T10:15:00Z",
            ])
        // Weekdays by name, and Sunday as 0 or 7.
        #expect(
            try Self.ticks("0 3 * * MON-FRI", after: "2026-12-04T12:00:00Z", count: 2) == [
                "2026-12-07T03:00:00Z", "2026-12-08T03:00:00Z",
            ])
        #expect(
            try Self.ticks("0 0 * * 7", after: "2026-12-07T00:00:00Z", count: 1) == ["2026-12-13T00:00:00Z"])
        // Both day fields restricted: either matches (Vixie cron).
        #expect(
            try Self.ticks("0 0 1 * SUN", after: "2026-12-25T00:00:00Z", count: 2) == [
                "2026-12-27T00:00:00Z", "2027-01-01T00:00:00Z",
            ])
        // February 29th only in leap years.
        #expect(
            try Self.ticks("0 0 29 FEB *", after: "2026-03-01T00:00:00Z", count: 1) == [
                "2028-02-29T00:00:00Z"
            ])
    }

    @Test(
        "a time zone's daylight-saving changes skip the hour that does not exist and fire once in the one that repeats"
    )
    func daylightSaving() throws {
        // Europe/Berlin: 2027-03-28 02:00 → 03:00; 2027-10-31 03:00 → 02:00.
        #expect(
            try Self.ticks("30 2 * * *", zone: "Europe/Berlin", after: "2027-03-26T12:00:00Z", count: 3) == [
                "2027-03-27T01:30:00Z", "2027-03-29T00:30:00Z", "2027-03-30T00:30:00Z",
            ])
        #expect(
            try Self.ticks("30 2 * * *", zone: "Europe/Berlin", after: "2027-10-30T12:00:00Z", count: 2) == [
                "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z",
            ])
    }

    @Test(
        "an expression that is not five valid fields is refused, naming the field",
        arguments: [
            ("0 3 * *", "expected 5 fields"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"),
            ("* * 0 * *", "day-of-month"), ("* * * 13 *", "month"), ("* * * * 8", "day-of-week"),
            ("5-1 * * * *", "backwards"), ("*/0 * * * *", "step"), ("* * * FOO *", "month"),
            ("1,,2 * * * *", "minute"),
        ])
    func refused(_ text: String, _ naming: String) {
        #expect {
            try CronExpression(parsing: text)
        } throws: { error in
            "\(error)".contains(naming)
        }
    }

    @Test("an interval ticks on its multiples since the epoch, so every replica computes the same ticks")
    func everyTicks() {
        let schedule = FlowSchedule(id: "x", when: .every(FlowDuration(parsing: "15m")!))
        let after = Self.date("2026-12-07T10:07:12Z")
        #expect(schedule.nextTick(after: after).map(FlowSchedule.tickText) == "2026-12-07T10:15:00Z")
        #expect(
            schedule.latestTick(from: Self.date("2026-12-07T08:00:00Z"), notAfter: after)
                == Self.date("2026-12-07T10:00:00Z"))
        #expect(
            schedule.idempotencyKey(for: Self.date("2026-12-07T10:15:00Z"))
                == "schedule:x:2026-12-07T10:15:00Z")
    }

    @Test("a flow's schedules parse, round-trip through the canonical form and keep their specification")
    func parsing() throws {
        let flow = try FlowParser.parse(
            yaml: """
                flow: nightly
                input:
                  type: object
                  required: [repo]
                  properties: {repo: {type: string}}
                schedules:
                  - id: nightly
                    cron: "0  3 * * *"
                    timezone: Europe/Berlin
                    input: {repo: keel}
                    missed: run-once
                  - id: often
                    every: 90m
                    input: {repo: other}
                steps:
                  - id: only
                    noop: {}
                """, file: "f.yaml")
        #expect(flow.schedules.map(\.id) == ["nightly", "often"])
        #expect(flow.schedules[0].summary == "cron 0 3 * * * (Europe/Berlin)")
        #expect(flow.schedules[1].summary == "every 1h30m")
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
        for schedule in flow.schedules {
            #expect(try FlowSchedule(specification: schedule.specification) == schedule)
        }
    }

    @Test(
        "a schedule that could never run is refused when the flow is pushed",
        arguments: [
            ("{id: a, cron: '0 3 * * *', every: 1h, input: {repo: x}}", "exactly one of"),
            ("{id: a, input: {repo: x}}", "exactly one of"),
            ("{id: a, cron: '0 3 * * *', timezone: Mars/Olympus, input: {repo: x}}", "IANA time zone"),
            ("{id: a, every: 500ms, input: {repo: x}}", "at least 1s"),
            ("{id: a, every: 1h, timezone: UTC, input: {repo: x}}", "cron only"),
            ("{id: a, every: 1h, input: {repo: 3}}", "input schema refuses"),
            ("{id: a, every: 1h}", "give the schedule an input"),
            ("{id: a, cron: '0 0 31 2 *', input: {repo: x}}", "never fires"),
            ("{id: a, every: 1h, missed: later, input: {repo: x}}", "skip or run-once"),
            ("{id: Bad, every: 1h, input: {repo: x}}", "schedule id"),
        ])
    func refusedSchedules(_ schedule: String, _ message: String) {
        let yaml = """
            flow: f
            input:
              type: object
              required: [repo]
              properties: {repo: {type: string}}
            schedules:
              - \(schedule)
            steps:
              - id: only
                noop: {}
            """
        #expect {
            try FlowParser.parse(yaml: yaml, file: "f.yaml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
