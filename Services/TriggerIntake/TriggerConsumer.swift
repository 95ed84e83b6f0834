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

    /// Consumes until graceful shutdown. If the consumer ends (its channel closed, the broker cancelled
    /// it), it starts again on a fresh channel after a pause instead of taking the service down.
    func run() async throws {
        var delay = Duration.milliseconds(200)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var failure = "the consumer ended"
            do {
                try await cancelWhenGracefulShutdown { try await self.consume() }
            } catch {
                failure = "\(error)"
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            logger.warning(
                "trigger consumer stopped; starting again",
                metadata: ["error": "\(failure)", "retry_in": "\(delay)"])
            let pause = delay
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func consume() async throws {
        let channel = try await connection().openChannel()
        try await KeelTopology.triggerIntake.declare(on: channel)
        try await channel.setPrefetch(UInt16(prefetch))
        let deliveries = try await channel.consume(queue: KeelTopology.triggerQueue.name)
        logger.info(
            "consuming", metadata: ["queue": "\(KeelTopology.triggerQueue.name)", "prefetch": "\(prefetch)"])
        try await withThrowingDiscardingTaskGroup { group in
            for try await delivery in deliveries {
                group.addTask { await self.handle(delivery, on: channel) }
            }
        }
        try? await channel.close()
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
