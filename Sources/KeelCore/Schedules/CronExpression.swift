public import Foundation

/// A 5-field cron expression (`minute hour day-of-month month day-of-week`) as Vixie cron reads it:
/// `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and weekday names (`JAN`,
/// `MON`), 0 or 7 for Sunday. When both day fields are restricted, a day matches if either does.
///
/// Ticks are computed in a time zone: a time that does not exist there (skipped by a daylight-saving
/// change) has no tick, and a time that exists twice ticks once, at its first occurrence.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 (Sunday) to 6.
    public let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// The expression as written, trimmed and with single spaces.
    public let description: String

    /// Why an expression was refused, naming the field.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static let monthNames = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing text: String) throws(Invalid) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(
                description:
                    "expected 5 fields (minute hour day-of-month month day-of-week); got \(fields.count)")
        }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [])
        hours = try Self.field(fields[1], "hour", 0...23, names: [])
        daysOfMonth = try Self.field(fields[2], "day-of-month", 1...31, names: [])
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, firstName: 1)
        let weekdays = try Self.field(fields[4], "day-of-week", 0...7, names: Self.dayNames, firstName: 0)
        daysOfWeek = Set(weekdays.map { $0 == 7 ? 0 : $0 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        description = fields.joined(separator: " ")
    }

    /// One field: a comma-separated list of `*`, `n`, `a-b`, each optionally `/step`.
    static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0
    ) throws(Invalid) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else {
                throw Invalid(description: "\(name): '\(part)' is not a value, range or step")
            }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed >= 1, parsed <= range.upperBound else {
                    throw Invalid(
                        description: "\(name): the step in '\(part)' must be from 1 to \(range.upperBound)")
                }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw Invalid(description: "\(name): '\(part)' is not a range") }
                let low = try value(ends[0], name, range, names: names, firstName: firstName)
                let high =
                    ends.count == 2
                    ? try value(ends[1], name, range, names: names, firstName: firstName)
                    : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else {
                    throw Invalid(description: "\(name): the range '\(pieces[0])' runs backwards")
                }
                bounds = low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    static func value(
        _ text: Substring, _ name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int
    ) throws(Invalid) -> Int {
        if let number = Int(text), text.allSatisfy(\.isASCII) {
            guard range.contains(number) else {
                throw Invalid(
                    description: "\(name): \(number) is outside \(range.lowerBound)-\(range.upperBound)")
            }
            return number
        }
        if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
        throw Invalid(description: "\(name): '\(text)' is not a number\(names.isEmpty ? "" : " or a name")")
    }

    /// Whether a day (its month, day of month and weekday, 0 = Sunday) has ticks.
    func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(day)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }

    /// The first tick strictly after `date` in `timeZone`, within eight years (nil: none, e.g. `0 0 30 2 *`).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        var day = calendar.startOfDay(for: date)
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day,
                let weekday = parts.weekday, matches(month: month, day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in sortedHours {
                    for minute in sortedMinutes {
                        let wanted = DateComponents(
                            timeZone: timeZone, year: year, month: month, day: dayOfMonth, hour: hour,
                            minute: minute)
                        guard let tick = calendar.date(from: wanted), tick > date else { continue }
                        // A wall-clock time skipped by a daylight-saving change comes back shifted: no tick.
                        let back = calendar.dateComponents([.day, .hour, .minute], from: tick)
                        guard back.day == dayOfMonth, back.hour == hour, back.minute == minute else {
                            continue
                        }
                        return tick
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: following)
        }
        return nil
    }
}
