public import AMQPClient
public import Logging
import KeelCore
import Metrics
public import ServiceLifecycle

/// A service that consumes work queues with a bounded number of deliveries in flight, and acks each
/// delivery only after its handler returned (so the outcome committed first).
///
/// Up to `prefetch` deliveries per queue are handled at once; the broker holds the rest: that is the
/// service's backpressure. A handler that throws (database down) keeps its delivery and is retried
/// with backoff, so an outage neither loses messages nor burns their delivery count; on shutdown
/// unfinished ones go back to the queue. If the consumer ends (its channel closed, the broker cancelled
/// it), it starts again on a fresh channel after a pause instead of taking the service down.
public final class DeliveryConsumer: Service, Sendable {
    /// Decides a delivery's fate; throws only for failures worth retrying (the database is down).
    public typealias Handler = @Sendable (AMQPDelivery) async throws -> DeliveryDisposition

    let name: String
    let declaration: KeelDeclaration
    let queues: [String]
    let prefetch: Int
    let connection: @Sendable () async throws -> AMQPConnection
    let handler: Handler
    let logger: Logger

    /// - Parameters:
    ///   - name: for logs, e.g. `trigger consumer`.
    ///   - declaration: declared on every (re)start, before consuming.
    public init(
        name: String, declaration: KeelDeclaration, queues: [String], prefetch: Int,
        connection: @escaping @Sendable () async throws -> AMQPConnection, logger: Logger,
        handler: @escaping Handler
    ) {
        self.name = name
        self.declaration = declaration
        self.queues = queues
        self.prefetch = prefetch
        self.connection = connection
        self.handler = handler
        self.logger = logger
    }

    public func run() async throws {
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
                "\(name) stopped; starting again", metadata: ["error": "\(failure)", "retry_in": "\(delay)"])
            let pause = delay
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func consume() async throws {
        let channel = try await connection().openChannel()
        try await declaration.declare(on: channel)
        try await channel.setPrefetch(UInt16(prefetch))
        var consumers: [(String, AMQPConsumer)] = []
        for queue in queues {
            consumers.append((queue, try await channel.consume(queue: queue)))
        }
        logger.info(
            "consuming", metadata: ["queues": "\(queues.joined(separator: ","))", "prefetch": "\(prefetch)"])
        let depth = DeadLetterQueueDepth(
            queues: declaration.queues.filter { queues.contains($0.name) }, interval: .seconds(15))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await depth.run(on: channel) }
            for (queue, deliveries) in consumers {
                let redeliveries = Counter(label: "keel_redeliveries_total", dimensions: [("queue", queue)])
                // In flight against prefetch: an operator sees a saturated consumer.
                let inFlight = Meter(label: "keel_consumer_in_flight", dimensions: [("queue", queue)])
                Gauge(label: "keel_consumer_prefetch", dimensions: [("queue", queue)]).record(prefetch)
                group.addTask {
                    try await withThrowingDiscardingTaskGroup { handlers in
                        for try await delivery in deliveries {
                            if delivery.redelivered { redeliveries.increment() }
                            inFlight.increment()
                            handlers.addTask {
                                await self.handle(delivery, from: queue, on: channel)
                                inFlight.decrement()
                            }
                        }
                    }
                    throw ConsumerEnded(queue: queue)
                }
            }
        }
        try? await channel.close()
    }

    /// What a line about a delivery can say before its body is read: where it came from, and the
    /// message's own ids — its correlation id and trace find the run it belongs to.
    static func fields(of delivery: AMQPDelivery, from queue: String, _ extra: Logger.Metadata)
        -> Logger.Metadata
    {
        let properties = delivery.properties
        var fields: Logger.Metadata = [
            "queue": "\(queue)", "message_id": "\(properties.messageID ?? "-")",
            "correlation_id": "\(properties.correlationID ?? "-")",
        ]
        if let trace = properties.headers["traceparent"]?.stringValue.flatMap(TraceContext.init(traceparent:))
        {
            fields["trace_id"] = "\(trace.traceID)"
        }
        return fields.merging(extra) { _, new in new }
    }

    private func handle(_ delivery: AMQPDelivery, from queue: String, on channel: AMQPChannel) async {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                switch try await handler(delivery) {
                case .ack: try await channel.ack(delivery)
                case .deadLetter(let reason):
                    logger.error(
                        "\(name): dead-lettering a delivery",
                        metadata: Self.fields(of: delivery, from: queue, ["reason": "\(reason)"]))
                    try await channel.reject(delivery, requeue: false)
                    Counter(
                        label: "keel_dead_letters_total",
                        dimensions: [("queue", queue), ("reason", "rejected")]
                    )
                    .increment()
                case .requeue(let reason):
                    logger.info(
                        "\(name): returning a delivery to its queue",
                        metadata: Self.fields(of: delivery, from: queue, ["reason": "\(reason)"]))
                    try await channel.nack(delivery, requeue: true)
                }
                return
            } catch {
                logger.warning(
                    "\(name): delivery not handled yet; retrying",
                    metadata: Self.fields(
                        of: delivery, from: queue, ["error": "\(error)", "retry_in": "\(delay)"]))
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

/// The broker ended a consumer (its queue was deleted, the channel closed): all of them restart.
struct ConsumerEnded: Error, CustomStringConvertible {
    var queue: String
    var description: String { "the consumer of \(queue) ended" }
}

/// What becomes of a handled delivery.
public enum DeliveryDisposition: Sendable, Hashable {
    /// Done with (its outcome committed, or it was a duplicate).
    case ack
    /// A poison message no retry can help: rejected without requeue, so the queue's dead-letter target
    /// keeps it (with RabbitMQ's `x-death` header); `reason` goes to the log.
    case deadLetter(reason: String)
    /// Not possible now, worth trying later (elsewhere, or once a remote host is back): nacked with
    /// requeue, so the broker delivers it again and counts the delivery against the queue's delivery
    /// limit (after which it is dead-lettered). The delivery's prefetch slot is freed meanwhile.
    case requeue(reason: String)
}
