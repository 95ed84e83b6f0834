import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import Logging
import Metrics

/// Consumes `keel.notifications` (approval requests, reminders, decisions and failed runs from
/// `keel.events`) and writes one webhook delivery per target of each event, all in one transaction,
/// before the ack: an event is never lost between the broker and the table, and a redelivered one adds
/// nothing (deliveries are unique per event message id and URL).
struct NotificationHandler: Sendable {
    let store: WebhookDeliveryStore
    let flows: FlowNotifyTargets
    let configured: [WebhookTarget]
    let wakeup: WebhookWakeup

    func handle(_ delivery: AMQPDelivery) async throws -> DeliveryDisposition {
        // The queue's bindings bring only these four; anything else is not ours to notify about.
        guard let type = NotificationEvent(routingKey: delivery.routingKey) else { return .ack }
        guard let messageID = delivery.properties.messageID, !messageID.isEmpty else {
            return .deadLetter(reason: "an event without a message id cannot be notified once")
        }
        guard let data = (try? JSONValue(parsing: delivery.body))?.objectValue,
            let run = data["run_id"]?.stringValue.flatMap(RunID.init),
            let flow = data["flow"]?.stringValue
        else {
            return .deadLetter(reason: "the event's body is not a Keel event (run_id, flow)")
        }
        let version = data["version"]?.int64Value.map(Int.init) ?? 0
        let notify = version > 0 ? try await flows.notify(flow: flow, version: version) : []
        let targets = WebhookTarget.targets(for: type, configured: configured, flow: notify)
        guard !targets.isEmpty else { return .ack }
        let now = Date()
        let deliveries = targets.map {
            NewWebhookDelivery(
                target: $0, body: WebhookBody.render(type, data: data, format: $0.format, at: now))
        }
        let event = WebhookEvent(messageID: messageID, type: type, runID: run, flow: flow)
        if try await store.enqueue(event, deliveries: deliveries) > 0 { wakeup.signal() }
        return .ack
    }
}

enum NotificationConsumer {
    static func make(
        handler: NotificationHandler,
        connection: @escaping @Sendable () async throws -> AMQPConnection,
        publishing: @escaping @Sendable () async throws -> AMQPConnection,
        prefetch: Int, logger: Logger
    ) -> DeliveryConsumer {
        DeliveryConsumer(
            name: "notification consumer", declaration: KeelTopology.notifications,
            queues: [KeelTopology.notificationQueue.name], prefetch: prefetch, connection: connection,
            publishing: publishing, logger: logger
        ) { delivery in
            try await handler.handle(delivery)
        }
    }
}
