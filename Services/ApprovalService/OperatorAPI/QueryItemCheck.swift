import Foundation
import KeelAPI

/// Which query item or path segment of a request the generated server could not decode, and why.
///
/// The runtime reports a bad query item without naming it; a problem should name the field, so this
/// re-reads the request's query against the kinds the document gives its parameters.
enum QueryItemCheck {
    /// The document's typed query parameters, by name.
    static let integers: Set = ["limit", "from", "to"]
    static let dates: Set = ["since", "until"]
    static let statuses = Set(Components.Schemas.RunStatus.allCases.map(\.rawValue))

    /// The first item that is not what its parameter takes: its name and what was expected.
    static func firstInvalid(inPath path: String?, operationID: String) -> (name: String, expected: String)? {
        guard let path, let components = URLComponents(string: path) else { return nil }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            if integers.contains(item.name) || (item.name == "before" && operationID == "listDeadLetters"),
                Int64(value) == nil
            {
                return (item.name, "expected an integer; got '\(value)'")
            }
            if dates.contains(item.name), (try? RFC3339DateTranscoder().decode(value)) == nil {
                return (
                    item.name, "expected an RFC 3339 date-time, e.g. 2026-12-07T09:30:00Z; got '\(value)'"
                )
            }
            if item.name == "status", operationID == "listRuns", !statuses.contains(value) {
                return (
                    item.name, "expected one of \(statuses.sorted().joined(separator: ", ")); got '\(value)'"
                )
            }
        }
        return nil
    }
}
