import Foundation
import KeelCore

/// A notification's body, written once when the event is handled (every retry posts the same bytes).
///
/// `standard`: `{"type": "approval.requested", "timestamp": "<ISO 8601>", "data": {…the event…}}`, the
/// event as Keel published it on `keel.events` (`run_id`, `flow`, `version`, `correlation_id`, `step`,
/// `attempt`, `approval_id`, …). `slack`: `{"text": "<one line for people>"}`, which a Slack incoming
/// webhook (and the many tools that copy its format) shows as it is.
enum WebhookBody {
    static func render(
        _ event: NotificationEvent, data: JSONObject, format: NotificationFormat, at date: Date
    ) -> JSONValue {
        switch format {
        case .standard:
            return [
                "type": .string(event.rawValue),
                "timestamp": .string(date.formatted(.iso8601)),
                "data": .object(data),
            ]
        case .slack:
            return ["text": .string(slackText(event, data: data))]
        }
    }

    /// One line, e.g. `Approval requested for deploy (run 6f1c…, step review): Ship v1.2?`.
    static func slackText(_ event: NotificationEvent, data: JSONObject) -> String {
        let flow = data["flow"]?.stringValue ?? "?"
        var place = "run \(data["run_id"]?.stringValue ?? "?")"
        if let step = data["step"]?.stringValue { place += ", step \(step)" }
        let line: String
        switch event {
        case .approvalRequested:
            line =
                "Approval requested for \(flow) (\(place))"
                + (data["summary"]?.stringValue.map { ": " + short($0) } ?? "")
        case .approvalReminder:
            line = "Approval still pending for \(flow) (\(place))"
        case .approvalDecided:
            let decision =
                switch data["decision"]?.stringValue {
                case "approve": "approved"
                case "reject": "rejected"
                case "request_changes": "changes requested"
                case let other: other ?? "decided"
                }
            let actor = data["actor"]?.stringValue.map { " by \($0)" } ?? ""
            line = "Approval \(decision)\(actor) for \(flow) (\(place))"
        case .runFailed:
            let steps = data["failed_steps"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !steps.isEmpty { place += ", failed steps: \(steps.joined(separator: ", "))" }
            line =
                "Run failed for \(flow) (\(place))"
                + (data["reason"]?.stringValue.map { ": " + short($0) } ?? "")
        }
        return escaped(line)
    }

    /// At most 200 characters of one line.
    static func short(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// Slack's escaping of the three characters its markup gives meaning to.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
