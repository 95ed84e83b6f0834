public import AMQPClient
public import Logging
import Tracing
import KeelCore
import KeelStore
import Metrics
public import ServiceLifecycle
import Synchronization

/// A service that consumes work queues with a bounded number of deliveries in flight, and acks each
/// delivery only after its handler returned (so the outcome committed first).
///
/// Up to `prefetch` deliveries per queue are handled at once; the broker holds the rest: that is the
/// service's backpressure. No delivery may hold its slot for ever, so a handler's failure is sorted
/// (`DeliveryFailure`): one that can never succeed (undecodable, data PostgreSQL refuses) is answered on
/// `reply_to` and dead-lettered at once with its reason; one that may pass later (database down) is
/// retried in place with backoff `inPlaceAttempts` times, so a short outage neither loses messages nor
/// burns their delivery count, and is then handed back to the broker, whose delivery limit and
/// dead-letter queue bound it. On shutdown unfinished deliveries go back to the queue. If the consumer
/// ends (its channel closed, the broker cancelled it), it starts again on a fresh channel after a pause
/// instead of taking the service down.
public final class DeliveryConsumer: Service, Sendable {
    /// Decides a delivery's fate; throws only for failures worth retrying (the database is down).
    public typealias Handler = @Sendable (AMQPDelivery) async throws -> DeliveryDisposition

    /// What logs and readiness call it, e.g. `trigger consumer`.
    public let name: String
    let declaration: KeelDeclaration
    let queues: [String]
    let prefetch: Int
    let connection: @Sendable () async throws -> AMQPConnection
    /// Where refusals (answers and dead letters) are published: a connection a resource alarm may block
    /// without stopping this consumer's acks.
    let publishing: @Sendable () async throws -> AMQPConnection
    let handler: Handler
    let refusal: Refusal
    let inPlaceAttempts: Int
    let logger: Logger
    /// Whether the consumer has declared its queues and is taking deliveries. Until it is, a message
    /// published to an exchange the queues bind to may have nowhere to go, so the service is not ready.
    private let consuming = Mutex(false)

    /// True from the moment the consumer is taking deliveries until it stops (a broker outage, shutdown).
    public var isConsuming: Bool { consuming.withLock { $0 } }

    /// How a consumer answers and keeps a delivery it refuses.
    public struct Refusal: Sendable {
        /// The answer for `reply_to`, if the sender should get one: given the delivery and the reason.
        public var reply: @Sendable (_ delivery: AMQPDelivery, _ reason: String) -> [UInt8]?
        /// The body the dead letter keeps: the original, or a copy with secrets (tokens) removed.
        public var deadLetterBody: @Sendable (_ body: [UInt8]) -> [UInt8]

        public init(
            reply: @escaping @Sendable (AMQPDelivery, String) -> [UInt8]? = { _, _ in nil },
            deadLetterBody: @escaping @Sendable ([UInt8]) -> [UInt8] = { $0 }
        ) {
            self.reply = reply
            self.deadLetterBody = deadLetterBody
        }
    }

    /// - Parameters:
    ///   - name: for logs, e.g. `trigger consumer`.
    ///   - declaration: declared on every (re)start, before consuming.
    ///   - publishing: the connection refusals are published on; the consuming one when nil.
    ///   - refusal: how a delivery that can never succeed is answered and kept.
    ///   - inPlaceAttempts: how many times a transient failure is tried here before the delivery goes
    ///     back to the broker (about 35 s of backoff at the default).
    public init(
        name: String, declaration: KeelDeclaration, queues: [String], prefetch: Int,
        connection: @escaping @Sendable () async throws -> AMQPConnection,
        publishing: (@Sendable () async throws -> AMQPConnection)? = nil, logger: Logger,
        refusal: Refusal = Refusal(), inPlaceAttempts: Int = 12,
        handler: @escaping Handler
    ) {
        self.publishing = publishing ?? connection
        self.refusal = refusal
        self.inPlaceAttempts = inPlaceAttempts
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
        try await connection().withChannel { channel in
            try await consume(on: channel)
        }
    }

    /// Declares the topology, sets the prefetch and handles deliveries until a consumer ends or fails.
    private func consume(on channel: AMQPChannel) async throws {
        try await declaration.declare(on: channel)
        try await channel.setPrefetch(UInt16(prefetch))
        var consumers: [(String, AMQPConsumer)] = []
        for queue in queues {
            consumers.append((queue, try await channel.consume(queue: queue)))
        }
        logger.info(
            "consuming", metadata: ["queues": "\(queues.joined(separator: ","))", "prefetch": "\(prefetch)"])
        consuming.withLock { $0 = true }
        defer { consuming.withLock { $0 = false } }
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
        // A consumer span in the message's trace: the handler's work (its transactions) nests in it.
        let traceparent = delivery.properties.headers["traceparent"]?.stringValue
        await withSpan(
            "\(queue) consume", context: TraceSpans.context(traceparent: traceparent), ofKind: .consumer
        ) { _ in
            await handleInSpan(delivery, from: queue, on: channel)
        }
    }

    private func handleInSpan(_ delivery: AMQPDelivery, from queue: String, on channel: AMQPChannel) async {
        if let reason = MessageContract.refusal(for: delivery.properties) {
            return await refuse(delivery, reason: reason, from: queue, on: channel)
        }
        var delay = Duration.milliseconds(100)
        var attempts = 0
        while true {
            attempts += 1
            do {
                switch try await handler(delivery) {
                case .ack: try await channel.ack(delivery)
                case .deadLetter(let reason):
                    await refuse(delivery, reason: reason, from: queue, on: channel)
                case .requeue(let reason):
                    logger.info(
                        "\(name): returning a delivery to its queue",
                        metadata: Self.fields(of: delivery, from: queue, ["reason": "\(reason)"]))
                    try await channel.nack(delivery, requeue: true)
                }
                return
            } catch {
                if case .permanent(let reason) = DeliveryFailure(error) {
                    await refuse(delivery, reason: reason, from: queue, on: channel)
                    return
                }
                if attempts >= inPlaceAttempts {
                    // Back to the broker: the queue's delivery limit, then its dead-letter queue, bound it.
                    logger.warning(
                        "\(name): delivery still not handled; handing it back to its queue",
                        metadata: Self.fields(
                            of: delivery, from: queue, ["error": "\(error)", "attempts": "\(attempts)"]))
                    try? await channel.nack(delivery, requeue: true)
                    return
                }
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

    /// Answers a delivery that can never succeed on its `reply_to` and dead-letters it with its reason
    /// in `keel-reason` and `keel-error`, then acks it. When the copy cannot be published, the delivery
    /// is rejected instead, so the broker dead-letters the original (its reason is then in the log).
    private func refuse(_ delivery: AMQPDelivery, reason: String, from queue: String, on channel: AMQPChannel)
        async
    {
        logger.error(
            "\(name): dead-lettering a delivery",
            metadata: Self.fields(of: delivery, from: queue, ["reason": "\(reason)"]))
        Counter(label: "keel_dead_letters_total", dimensions: [("queue", queue), ("reason", "rejected")])
            .increment()
        do {
            try await publishing().withChannel { publisher in
                // Bounded: a broker that blocks publishers must not hold this delivery's slot for ever.
                try await withPublishDeadline(.seconds(30)) {
                    try await self.publishRefusal(delivery, reason: reason, from: queue, on: publisher)
                }
            }
            try await channel.ack(delivery)
        } catch {
            logger.warning(
                "\(name): could not publish the dead letter; rejecting the delivery to its dead-letter queue",
                metadata: Self.fields(of: delivery, from: queue, ["error": "\(error)"]))
            try? await channel.reject(delivery, requeue: false)
        }
    }

    private func publishRefusal(
        _ delivery: AMQPDelivery, reason: String, from queue: String, on publisher: AMQPChannel
    ) async throws {
        try await publisher.enablePublisherConfirms()
        let properties = delivery.properties
        if let replyTo = properties.replyTo, !replyTo.isEmpty, let answer = refusal.reply(delivery, reason) {
            try await publisher.publish(
                answer, exchange: "", routingKey: replyTo,
                properties: AMQPProperties(
                    contentType: "application/json", headers: ["keel-schema": "1"],
                    correlationID: properties.correlationID))
        }
        var dead = properties
        dead.headers = DeadLetterHeaders.carried(properties.headers)
        dead.headers["keel-reason"] = "refused"
        dead.headers["keel-error"] = .string(reason)
        dead.headers["keel-original-routing-key"] = .string(delivery.routingKey)
        // The copy is Keel's message: the broker would refuse another user's id on it.
        dead.userID = nil
        try await publisher.publish(
            refusal.deadLetterBody(delivery.body), exchange: KeelTopology.deadLetters.name,
            routingKey: queue, properties: dead)
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
    /// A poison message no retry can help: answered on `reply_to` (see `DeliveryConsumer.Refusal`) and
    /// dead-lettered to the queue's dead-letter queue with `reason` in its `keel-error` header.
    case deadLetter(reason: String)
    /// Not possible now, worth trying later (elsewhere, or once a remote host is back): nacked with
    /// requeue, so the broker delivers it again and counts the delivery against the queue's delivery
    /// limit (after which it is dead-lettered). The delivery's prefetch slot is freed meanwhile.
    case requeue(reason: String)
}
