public import KeelCore

/// Where one event's webhook goes and how its body is written: a URL of the configuration
/// (`KEEL_WEBHOOK_URLS`, every event) or of the run's flow (`notify:`, the events it lists).
public struct WebhookTarget: Sendable, Hashable {
    public var url: String
    public var format: NotificationFormat
    public var events: Set<NotificationEvent>

    public init(
        url: String, format: NotificationFormat = .standard,
        events: Set<NotificationEvent> = Set(NotificationEvent.allCases)
    ) {
        self.url = url
        self.format = format
        self.events = events
    }

    public init(_ notification: FlowNotification) {
        self.init(url: notification.url, format: notification.format, events: notification.events)
    }

    /// The targets `event` goes to: the configured ones, then the flow's, each URL once (a URL in both
    /// gets one delivery, as the configuration says), in that order.
    public static func targets(
        for event: NotificationEvent, configured: [WebhookTarget], flow: [FlowNotification]
    ) -> [WebhookTarget] {
        var seen = Set<String>()
        var targets: [WebhookTarget] = []
        for target in configured + flow.map(WebhookTarget.init) {
            guard seen.insert(target.url).inserted else { continue }
            if target.events.contains(event) { targets.append(target) }
        }
        return targets
    }
}
