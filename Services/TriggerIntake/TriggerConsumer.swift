import AMQPClient
import KeelBus
import KeelStore
import Logging
import Metrics
import PGClient

/// Consumes `keel.triggers` and turns each message into a run or a recorded rejection, acking only
/// after that outcome has committed (DESIGN invariant 1: nothing is lost, nothing is dropped silently).
enum TriggerConsumer {
    static func make(
        handler: TriggerHandler,
        connection: @escaping @Sendable () async throws -> AMQPConnection,
        publishing: @escaping @Sendable () async throws -> AMQPConnection,
        prefetch: Int, logger: Logger
    ) -> DeliveryConsumer {
        let accepted = Counter(label: "keel_triggers_total", dimensions: [("outcome", "accepted")])
        let duplicates = Counter(label: "keel_triggers_total", dimensions: [("outcome", "duplicate")])
        let rejected = Counter(label: "keel_triggers_total", dimensions: [("outcome", "rejected")])
        return DeliveryConsumer(
            name: "trigger consumer", declaration: KeelTopology.triggerIntake,
            queues: [KeelTopology.triggerQueue.name], prefetch: prefetch, connection: connection,
            publishing: publishing, logger: logger,
            refusal: DeliveryConsumer.Refusal(reply: { _, reason in
                TriggerReply.refused(reason: reason)
            })
        ) { delivery in
            switch try await handler.handle(delivery) {
            case .accepted: accepted.increment()
            case .duplicate: duplicates.increment()
            case .rejected: rejected.increment()
            }
            return .ack
        }
    }
}
