import Foundation
import KeelCore
import KeelStore

/// The runs page's filter form as the query string carries it (`flow`, `status`, `requester`, `since`,
/// `until`, `text`, `before`), read into a `RunFilter`. Values people typed wrong are collected as
/// messages for the page (answered with 400) instead of failing the request.
struct RunsQuery: Sendable, Hashable {
    /// The values as given (trimmed), to fill the form in again.
    var flow = ""
    var status = ""
    var requester = ""
    var since = ""
    var until = ""
    var text = ""
    var before = ""
    /// The filter, when every value is valid.
    var filter = RunFilter(limit: RunsQuery.pageSize)
    /// What is wrong with the values, one sentence each.
    var problems: [String] = []

    /// Runs per page.
    static let pageSize = 50
    /// The longest value a field may have.
    static let maximumLength = 200

    init(_ parameters: [String: String]) {
        func value(_ name: String) -> String {
            (parameters[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        flow = value("flow")
        status = value("status")
        requester = value("requester")
        since = value("since")
        until = value("until")
        text = value("text")
        before = value("before")
        let fields = [
            ("flow", flow), ("status", status), ("requester", requester), ("since", since), ("until", until),
            ("text", text), ("before", before),
        ]
        for (name, given) in fields {
            if !given.isStorable { problems.append("The \(name) filter holds a NUL character.") }
            if given.count > Self.maximumLength {
                problems.append("The \(name) filter is longer than \(Self.maximumLength) characters.")
            }
        }
        guard problems.isEmpty else { return }

        filter.flow = flow.isEmpty ? nil : flow
        filter.requester = requester.isEmpty ? nil : requester
        filter.text = text.isEmpty ? nil : text
        if !status.isEmpty {
            if RunFilter.statuses.contains(status) {
                filter.status = status
            } else {
                problems.append(
                    "“\(status)” is not a run status; use one of \(RunFilter.statuses.joined(separator: ", "))."
                )
            }
        }
        if !since.isEmpty {
            if let date = Self.date(since) {
                filter.since = date.start
            } else {
                problems.append("The since filter “\(since)” is not a date (YYYY-MM-DD) or time (ISO 8601).")
            }
        }
        if !until.isEmpty {
            if let date = Self.date(until) {
                // A day includes itself: until 2026-12-07 means before 2026-12-08.
                filter.until = date.isDay ? date.start.addingTimeInterval(86_400) : date.start
            } else {
                problems.append("The until filter “\(until)” is not a date (YYYY-MM-DD) or time (ISO 8601).")
            }
        }
        if !before.isEmpty {
            if let id = RunID(before) {
                filter.before = id
            } else {
                problems.append("The before value “\(before)” is not a run id.")
            }
        }
    }

    /// `YYYY-MM-DD` (a day, UTC, as a date input sends it) or an ISO 8601 time with its zone.
    static func date(_ text: String) -> (start: Date, isDay: Bool)? {
        if let day = day(text) { return (day, true) }
        if let time = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return (time, false)
        }
        if let time = try? Date.ISO8601FormatStyle().parse(text) { return (time, false) }
        return nil
    }

    /// Midnight UTC of a `YYYY-MM-DD` day that exists.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else {
            return nil
        }
        return date
    }

    /// The filters (not the page position) as query items, for the next page's link.
    var items: [(String, String)] {
        [
            ("flow", flow), ("status", status), ("requester", requester), ("since", since), ("until", until),
            ("text", text),
        ]
    }

    /// Whether any filter narrows the listing.
    var isFiltered: Bool { items.contains { !$0.1.isEmpty } }
}
