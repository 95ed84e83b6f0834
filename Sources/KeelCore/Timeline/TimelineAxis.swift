/// The time axis of a run's picture: a round tick interval for the run's span and labels that read as
/// offsets from the trigger (`+30s`, `+1h30m`).
struct TimelineAxis: Sendable, Hashable {
    /// Milliseconds from the trigger to the right edge.
    var spanMilliseconds: Int64
    /// Milliseconds between ticks.
    var tickMilliseconds: Int64

    /// Round intervals, smallest first: at most eight ticks fit any span up to a few days.
    private static let intervals: [Int64] = [
        100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
        900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
    ]

    init(spanMilliseconds: Int64) {
        let span = max(spanMilliseconds, 1)
        self.spanMilliseconds = span
        // Beyond the table (weeks), whole days, at most eight ticks apart.
        tickMilliseconds =
            Self.intervals.first { span / $0 <= 8 } ?? (span / 8 / 86_400_000 + 1) * 86_400_000
    }

    /// Offsets of every tick from 0 up to the span.
    var ticks: [Int64] {
        Array(stride(from: Int64(0), through: spanMilliseconds, by: Int(tickMilliseconds)))
    }

    /// `+0`, `+0.5s`, `+45s`, `+2m`, `+1h30m`, `+2d`.
    static func label(_ milliseconds: Int64) -> String {
        guard milliseconds != 0 else { return "+0" }
        if milliseconds < 60_000 || milliseconds % 60_000 != 0 {
            let tenths = milliseconds / 100
            return tenths % 10 == 0 ? "+\(tenths / 10)s" : "+\(tenths / 10).\(tenths % 10)s"
        }
        let minutes = milliseconds / 60_000
        let (days, hours, rest) = (minutes / 1_440, minutes % 1_440 / 60, minutes % 60)
        var text = "+"
        if days > 0 { text += "\(days)d" }
        if hours > 0 { text += "\(hours)h" }
        if rest > 0 { text += "\(rest)m" }
        return text
    }

    /// A duration for people, as the tooltips say it: `0.250s`, `12.0s`, `3m20s`, `2h5m`.
    static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 10_000 {
            let thousandths = String(milliseconds % 1_000)
            return
                "\(milliseconds / 1_000).\(String(repeating: "0", count: 3 - thousandths.count))\(thousandths)s"
        }
        if milliseconds < 120_000 { return "\(milliseconds / 1_000).\(milliseconds % 1_000 / 100)s" }
        let seconds = milliseconds / 1_000
        if seconds < 7_200 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3_600)h\(seconds % 3_600 / 60)m"
    }
}
