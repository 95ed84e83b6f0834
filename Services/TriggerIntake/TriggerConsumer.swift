import AMQPClient
import KeelBus
import Logging
import Metrics
import PGClient
import ServiceLifecycle

/// Consumes `keel.triggers` and turns each message into a run or a recorded rejection, acking only
/// after that outcome has committed (DESIGN invariant 1: nothing is lost, nothing is dropped silently).
///
/// Up to `prefetch` deliveries are handled at once; the broker holds the rest. A failure before the
/// commit (database down) keeps the delivery and retries it with backoff, so an outage neither loses
/// triggers nor burns their delivery count; on shutdown unfinished ones go back to the queue.
final class TriggerConsumer: Service, Sendable {
    let handler: TriggerHandler
    let connection: @Sendable () async throws -> AMQPConnection
    let prefetch: Int
    let logger: Logger
    let accepted = Counter(label: "keel_triggers_total", dimensions: [("outcome", "accepted")])
    let duplicates = Counter(label: "keel_triggers_total", dimensions: [("outcome", "duplicate")])
    let rejected = Counter(label: "keel_triggers_total", dimensions: [("outcome", "rejected")])
    let redeliveries = Counter(
        label: "keel_redeliveries_total", dimensions: [("queue", KeelTopology.triggerQueue.name)])

    init(
        pool: PGPool, connection: @escaping @Sendable () async throws -> AMQPConnection, prefetch: Int,
        logger: Logger
    ) {
        self.handler = TriggerHandler(pool: pool, logger: logger)
        self.connection = connection
        self.prefetch = prefetch
        self.logger = logger
    }

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            let channel = try await self.connection().openChannel()
            try await KeelTopology.triggerIntake.declare(on: channel)
            try await channel.setPrefetch(UInt16(self.prefetch))
            let deliveries = try await channel.consume(queue: KeelTopology.triggerQueue.name)
            self.logger.info(
                "consuming",
                metadata: ["queue": "\(KeelTopology.triggerQueue.name)", "prefetch": "\(self.prefetch)"])
            try await withThrowingDiscardingTaskGroup { group in
                for try await delivery in deliveries {
                    group.addTask { await self.handle(delivery, on: channel) }
                }
            }
        }
    }

    func handle(_ delivery: AMQPDelivery, on channel: AMQPChannel) async {
        if delivery.redelivered { redeliveries.increment() }
        var delay = Duration.milliseconds(100)
        while true {
            do {
                switch try await handler.handle(delivery) {
                case .accepted: accepted.increment()
                case .duplicate: duplicates.increment()
                case .rejected: rejected.increment()
                }
                try await channel.ack(delivery)
                return
            } catch {
                logger.warning(
                    "trigger not handled yet; retrying",
                    metadata: [
                        "message_id": "\(delivery.properties.messageID ?? "-")", "error": "\(error)",
                        "retry_in": "\(delay)",
                    ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    try? await channel.nack(delivery, requeue: true)
                    return
                }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
