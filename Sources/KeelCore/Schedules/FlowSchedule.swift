public import Foundation

/// A schedule a flow declares: when runs start by themselves, with what input, and what happens to ticks
/// missed while nothing could fire them. The live release's schedules are the ones that fire; releasing
/// or rolling back moves them with the version.
public struct FlowSchedule: Sendable, Hashable {
    /// Unique within the flow; part of each tick's idempotency key.
    public var id: String
    public var when: When
    /// The run's input (the flow's input schema applies, with its defaults).
    public var input: JSONValue
    public var missed: MissedTicks

    public enum When: Sendable, Hashable {
        /// A cron expression in an IANA time zone (`Europe/Berlin`; default `UTC`).
        case cron(CronExpression, timeZone: String)
        /// Every `interval`, on multiples of it since 1970-01-01T00:00:00Z, so every replica computes
        /// the same ticks.
        case every(FlowDuration)
    }

    /// What a tick that should have fired while nothing ran (no trigger-intake, or a long pause in
    /// one) becomes once something runs again.
    public enum MissedTicks: String, Sendable, Hashable, CaseIterable {
        /// No run for missed ticks; the schedule goes on from the next tick.
        case skip
        /// One run, for the latest missed tick.
        case runOnce = "run-once"
    }

    /// How late a tick may fire and still count as on time (not missed).
    public static let lateness: TimeInterval = 60
    /// The shortest interval `every` accepts.
    public static let minimumInterval = FlowDuration(milliseconds: 1_000)

    public init(id: String, when: When, input: JSONValue = .object([:]), missed: MissedTicks = .skip) {
        self.id = id
        self.when = when
        self.input = input
        self.missed = missed
    }

    /// The first tick strictly after `date`; nil when there is none (a cron expression that never
    /// matches, or an unknown time zone, which validation refuses).
    public func nextTick(after date: Date) -> Date? {
        switch when {
        case .cron(let expression, let zone):
            guard let timeZone = TimeZone(identifier: zone) else { return nil }
            return expression.next(after: date, in: timeZone)
        case .every(let interval):
            let milliseconds = Double(interval.milliseconds)
            let elapsed = (date.timeIntervalSince1970 * 1000 / milliseconds).rounded(.down)
            return Date(timeIntervalSince1970: (elapsed + 1) * milliseconds / 1000)
        }
    }

    /// The latest tick at or before `date`, searching forward from `tick` (a tick at or before `date`);
    /// bounded, so a schedule left unfired for years costs at most `limit` steps.
    public func latestTick(from tick: Date, notAfter date: Date, limit: Int = 100_000) -> Date {
        if case .every(let interval) = when {
            let milliseconds = Double(interval.milliseconds)
            return Date(
                timeIntervalSince1970: (date.timeIntervalSince1970 * 1000 / milliseconds).rounded(.down)
                    * milliseconds / 1000)
        }
        var latest = tick
        for _ in 0..<limit {
            guard let next = nextTick(after: latest), next <= date else { break }
            latest = next
        }
        return latest
    }

    /// The idempotency key of the run for `tick`: one run per schedule and tick, whoever fires it.
    public func idempotencyKey(for tick: Date) -> String {
        "schedule:\(id):\(Self.tickText(tick))"
    }

    /// `2026-12-07T03:00:00Z` (with milliseconds when the tick has them), in UTC.
    public static func tickText(_ tick: Date) -> String {
        let milliseconds = Int64((tick.timeIntervalSince1970 * 1000).rounded())
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second],
            from: Date(
                timeIntervalSince1970: Double(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)))
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        let fraction = milliseconds % 1000
        if fraction != 0 { text += String(format: ".%03d", Int(fraction)) }
        return text + "Z"
    }
}

extension FlowSchedule {
    /// The schedule as stored (`flow_schedules.spec`): its canonical form, which the flow's validation
    /// already accepted.
    public var specification: JSONValue { jsonValue }

    /// Reads a stored specification back; throws for anything its canonical form cannot be.
    public init(specification json: JSONValue) throws(CronExpression.Invalid) {
        guard let object = json.objectValue, let id = object["id"]?.stringValue else {
            throw CronExpression.Invalid(description: "a schedule specification needs an id")
        }
        let input = object["input"] ?? .object([:])
        let missed = object["missed"]?.stringValue.flatMap(MissedTicks.init(rawValue:)) ?? .skip
        if let cron = object["cron"]?.stringValue {
            let zone = object["timezone"]?.stringValue ?? "UTC"
            self.init(
                id: id, when: .cron(try CronExpression(parsing: cron), timeZone: zone), input: input,
                missed: missed)
        } else if let every = object["every"]?.stringValue.flatMap(FlowDuration.init(parsing:)) {
            self.init(id: id, when: .every(every), input: input, missed: missed)
        } else {
            throw CronExpression.Invalid(description: "schedule '\(id)' has neither cron nor every")
        }
    }

    /// How people read the schedule: `cron 0 3 * * * (Europe/Berlin)` or `every 15m`.
    public var summary: String {
        switch when {
        case .cron(let expression, let zone): "cron \(expression) (\(zone))"
        case .every(let interval): "every \(interval)"
        }
    }
}
