/// A webhook a flow asks to be told about its approvals and failures (`notify:` in the flow YAML).
///
/// The approval-service posts a signed webhook to `url` for each event listed in `events` (docs/notifications.md).
/// Only the address and the choice of events and body live in the flow: the signing secret is the
/// service's, so a flow author can name where notifications go but never how they are signed.
public struct FlowNotification: Sendable, Hashable {
    /// An absolute `http://` or `https://` URL, taken as written (no templates).
    public var url: String
    /// The events posted to `url`; all of them unless the flow lists some.
    public var events: Set<NotificationEvent>
    public var format: NotificationFormat

    /// Most `notify` entries one flow may have: each event becomes one delivery per target.
    public static let maximumEntries = 10
    /// Longest URL accepted.
    public static let maximumURLLength = 2048

    public init(
        url: String, events: Set<NotificationEvent> = Set(NotificationEvent.allCases),
        format: NotificationFormat = .standard
    ) {
        self.url = url
        self.events = events
        self.format = format
    }
}

/// The events Keel can notify about: each is the first two parts of an event's routing key on
/// `keel.events` (`approval.requested.<flow>`, `run.failed.<flow>`).
public enum NotificationEvent: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case approvalRequested = "approval.requested"
    case approvalReminder = "approval.reminder"
    case approvalDecided = "approval.decided"
    case runFailed = "run.failed"

    /// The event a routing key on `keel.events` carries, if it is one of these.
    public init?(routingKey: String) {
        let parts = routingKey.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        self.init(rawValue: "\(parts[0]).\(parts[1])")
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How a webhook's body is written: `standard` (Standard Webhooks' `{type, timestamp, data}`) or `slack`
/// (`{text}`, which a Slack incoming webhook takes as it is).
public enum NotificationFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case standard
    case slack
}
