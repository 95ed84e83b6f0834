import Foundation
import KeelCore

/// How the console writes times, sizes and JSON values: the same everywhere, and bounded, so a huge
/// input or output cannot make a page huge.
enum ConsoleFormat {
    /// The most characters of one JSON value (an input, an output, a fact) a page shows.
    static let jsonLimit = 4 * 1024

    /// `2026-12-07 11:18:58Z`: UTC, to the second.
    static func time(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt))
    }

    static func time(_ timestamp: Timestamp) -> String {
        time(Date(timeIntervalSince1970: Double(timestamp.millisecondsSinceEpoch) / 1000))
    }

    /// `just now`, `12 min ago`: how long ago, for people.
    static func ago(_ date: Date, now: Date) -> String {
        let age = Age.text(from: date, to: now)
        return age == "just now" ? age : age + " ago"
    }

    /// `12.345s`: how long from `start` to `end`.
    static func duration(from start: Date, to end: Date) -> String {
        TimelineView.seconds(Int64((end.timeIntervalSince(start) * 1000).rounded()))
    }

    /// `512 B`, `3.4 KiB`, `12.0 MiB`.
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// The value's compact JSON text in a preformatted block, cut at `jsonLimit` characters with a note.
    static func json(_ value: JSONValue) -> HTML {
        json(text: value.jsonString())
    }

    static func json(text: String) -> HTML {
        guard text.count > jsonLimit else { return "<pre class=\"json\">\(text)</pre>" }
        return """
            <pre class="json">\(String(text.prefix(jsonLimit)))…</pre>\
            <p class="muted">Showing the first \(jsonLimit) of \(text.count) characters.</p>
            """
    }

    /// A run id shortened for tables (its last 12 hex digits: UUIDv7 ids share their leading time bits).
    static func shortID(_ id: RunID) -> String {
        "…" + id.description.suffix(12)
    }
}
