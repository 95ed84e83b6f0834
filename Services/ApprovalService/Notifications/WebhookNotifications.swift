import Foundation
import KeelService
import KeelStore
import ServiceLifecycle

/// The approval-service's webhook notifications (docs/notifications.md): the consumer that turns events
/// into deliveries and the sender that posts them — or nothing, with one line saying so, when no
/// signing secret is set. Settings that cannot be used stop the service at start.
enum WebhookNotifications {
    static func services(_ dependencies: KeelServiceMain.Dependencies, _ settings: WebhookSettings)
        -> [any Service]
    {
        guard let secret = settings.secret else {
            dependencies.logger.info(
                "webhook notifications are off: KEEL_WEBHOOK_SECRET is not set (flows' notify: is ignored)")
            return []
        }
        let store = WebhookDeliveryStore(pool: dependencies.pool)
        let wakeup = WebhookWakeup()
        let handler = NotificationHandler(
            store: store, flows: FlowNotifyTargets(flows: FlowStore(pool: dependencies.pool)),
            configured: settings.configuredTargets, wakeup: wakeup)
        dependencies.logger.info(
            "webhook notifications are on",
            metadata: ["configured_urls": "\(settings.configuredTargets.count)"])
        return [
            NotificationConsumer.make(
                handler: handler, connection: dependencies.amqp.connected,
                publishing: dependencies.publishing.connected, prefetch: dependencies.configuration.prefetch,
                logger: dependencies.logger),
            WebhookSender(
                store: store, settings: settings, secret: secret, wakeup: wakeup, logger: dependencies.logger),
        ]
    }
}
