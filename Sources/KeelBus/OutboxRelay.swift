public import AMQPClient
import KeelStore
public import Logging
import Tracing
import Metrics
public import PGClient
public import ServiceLifecycle

/// Publishes what the outbox holds, with publisher confirms, and marks each message sent only after
/// the broker's ack (DESIGN invariant 3). Refused or unroutable messages stay and are retried with
/// backoff. Any number of replicas may run: rows are claimed with `SKIP LOCKED`.
///
/// It wakes on the outbox's `NOTIFY` (so a committed message leaves within milliseconds) and also
/// polls every `pollInterval`, which covers missed notifications and retry delays.
public final class OutboxRelay: Service, Sendable {
    let store: OutboxStore
    let pool: PGPool
    let connection: @Sendable () async throws -> AMQPConnection
    let batchSize: Int
    let pollInterval: Duration
    let logger: Logger
    let published = Counter(label: "keel_outbox_published_total")
    let failures = Counter(label: "keel_outbox_publish_failures_total")
    let lag = Recorder(label: "keel_outbox_lag_seconds")
    /// The whole outbox's unpublished messages, counted after each pass: every relay reports the same figure.
    let backlog = Gauge(label: "keel_outbox_backlog")

    /// How long one publish may wait for its confirm before it counts as failed and stays in the outbox.
    let publishTimeout: Duration

    /// `connection` returns the broker connection to publish on (it may wait until one exists).
    public init(
        pool: PGPool, connection: @escaping @Sendable () async throws -> AMQPConnection, batchSize: Int = 200,
        pollInterval: Duration = .seconds(1), publishTimeout: Duration = .seconds(30), logger: Logger
    ) {
        self.publishTimeout = publishTimeout
        self.store = OutboxStore(pool: pool)
        self.pool = pool
        self.connection = connection
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// How often the `keel_outbox_backlog` gauge is counted, at most.
    static let backlogInterval = Duration.seconds(1)

    public func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [pool] in
                let notifications = try await pool.listen("keel_outbox")
                for await _ in notifications { wake.yield() }
            }
            group.addTask { [pollInterval] in
                while !Task.isCancelled {
                    wake.yield()
                    try await Task.sleep(for: pollInterval)
                }
            }
            group.addTask { [self] in
                var channel: AMQPChannel?
                // Counting the backlog after every pass cost the database more than some passes.
                var counted: ContinuousClock.Instant?
                var backoff = Self.minimumBackoff
                for await _ in wakeups {
                    let refused: Bool
                    (channel, refused) = await drain(channel)
                    // A full queue (reject-publish) or an alarm refuses every publish until consumers catch
                    // up: the refused rows wait in the outbox, and the relay waits too, longer each time,
                    // instead of offering the broker the same rows on every wakeup.
                    if refused {
                        try? await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, Self.maximumBackoff)
                    } else {
                        backoff = Self.minimumBackoff
                    }
                    if counted.map({ $0.duration(to: .now) >= Self.backlogInterval }) ?? true {
                        counted = .now
                        if let count = try? await store.backlog() { backlog.record(count) }
                    }
                }
                try? await channel?.close()
            }
            try await gracefulShutdown()
            wake.finish()
            group.cancelAll()
        }
    }

    /// The relay's pause after a pass the broker refused publishes in, doubling up to the maximum.
    static let minimumBackoff = Duration.milliseconds(100)
    static let maximumBackoff = Duration.seconds(5)

    /// Relays batches until the outbox has nothing due, or until the broker refuses a publish; returns
    /// the channel to reuse and whether anything was refused.
    func drain(_ current: AMQPChannel?) async -> (channel: AMQPChannel?, refused: Bool) {
        var channel = current
        while !Task.isCancelled {
            do {
                if channel == nil {
                    let opened = try await connection().openChannel()
                    try await opened.enablePublisherConfirms()
                    try await KeelTopology.publishing.declare(on: opened)
                    channel = opened
                }
                guard let publishing = channel else { return (nil, false) }
                let result = try await store.relayBatch(limit: batchSize) { [publishTimeout] pending in
                    await Self.publish(pending, on: publishing, timeout: publishTimeout)
                }
                published.increment(by: result.sent)
                failures.increment(by: result.failed)
                if let oldest = result.oldestCreatedAt { lag.record(-oldest.timeIntervalSinceNow) }
                if result.failed > 0 {
                    logger.warning(
                        "outbox messages refused; kept for retry",
                        metadata: ["failed": "\(result.failed)", "sent": "\(result.sent)"])
                    // A refused publish may have closed the channel; start the next pass on a fresh one.
                    try? await publishing.close()
                    return (nil, true)
                }
                if result.isEmpty || result.sent < batchSize { return (channel, false) }
            } catch {
                logger.warning("outbox relay pass failed", metadata: ["error": "\(error)"])
                return (nil, true)
            }
        }
        return (channel, false)
    }

    /// Work (dispatches, dead letters, triggers) must reach a queue: unroutable, it stays in the outbox
    /// until its queue exists. Events go to whoever subscribes, possibly no one; replies go to a client's
    /// own queue, and if that is gone, so is the client.
    static func mustBeRouted(_ message: OutboxMessage) -> Bool {
        !message.exchange.isEmpty && message.exchange != KeelTopology.events.name
    }

    /// Publishes a batch concurrently (confirms are pipelined) and reports each message's fate.
    static func publish(_ pending: [PendingOutboxMessage], on channel: AMQPChannel, timeout: Duration)
        async -> [Int64: OutboxPublishOutcome]
    {
        await withTaskGroup(of: (Int64, OutboxPublishOutcome).self) { group in
            for item in pending {
                group.addTask {
                    let message = item.message
                    // A producer span in the run's trace; with a tracer, the message names it as parent.
                    let span = startSpan(
                        "\(message.exchange.isEmpty ? "reply" : message.exchange) publish",
                        context: TraceSpans.context(traceparent: message.headers["traceparent"]),
                        ofKind: .producer)
                    defer { span.end() }
                    var headers: AMQPTable = [:]
                    for (key, value) in message.headers { headers[key] = .string(value) }
                    if message.headers["traceparent"] != nil,
                        let traced = TraceSpans.traceparent(of: span.context)
                    {
                        headers["traceparent"] = .string(traced)
                    }
                    let properties = AMQPProperties(
                        contentType: "application/json", headers: headers,
                        correlationID: message.correlationID,
                        replyTo: message.replyTo, messageID: message.messageID.uuidString.lowercased())
                    do {
                        try await withPublishDeadline(timeout) {
                            try await channel.publish(
                                message.body, exchange: message.exchange, routingKey: message.routingKey,
                                properties: properties, mandatory: Self.mustBeRouted(message))
                        }
                        return (item.id, .sent)
                    } catch let error as AMQPError {
                        return (item.id, .failed(error.description))
                    } catch {
                        return (item.id, .failed(String(describing: error)))
                    }
                }
            }
            var outcomes: [Int64: OutboxPublishOutcome] = [:]
            for await (id, outcome) in group { outcomes[id] = outcome }
            return outcomes
        }
    }
}
