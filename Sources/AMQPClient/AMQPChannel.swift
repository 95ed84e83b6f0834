/// An AMQP channel: declarations, publishing (optionally confirmed), consuming and acknowledging.
///
/// Safe to use from many tasks at once; calls on one channel are performed in the order they reach the
/// connection's thread. After a broker restart the same object keeps working (the connection re-opens it).
/// A channel the broker closed because of an error (e.g. 406 PRECONDITION_FAILED) stays closed: every
/// call then throws that `.channelClosed` error; open a new channel.
public final class AMQPChannel: Sendable {
    /// The prefetch `consume` applies when `setPrefetch` was never called, so consumers never buffer
    /// unboundedly.
    public static let defaultPrefetch: UInt16 = 100

    /// Keeps the connection alive while the channel is in use.
    public let connection: AMQPConnection
    /// The channel number on the wire (stable across recoveries).
    public let id: UInt16
    private var loop: ConnectionLoop { connection.loop }

    init(connection: AMQPConnection, id: UInt16) {
        self.connection = connection
        self.id = id
    }

    public func declareExchange(
        _ name: String, type: AMQPExchangeType, durable: Bool = true, arguments: AMQPTable = [:]
    ) async throws {
        let id = id
        _ = try await loop.perform { loop, waiter in
            loop.declare(
                .exchange(name: name, type: type, durable: durable, arguments: arguments), on: id, waiter)
        }
    }

    /// Declares a queue (or checks it exists with the same settings); quorum queues, dead-lettering and
    /// limits are set through `arguments` (`x-queue-type`, `x-dead-letter-exchange`, `x-max-length`…).
    @discardableResult
    public func declareQueue(
        _ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: AMQPTable = [:]
    ) async throws -> AMQPQueueInfo {
        let id = id
        let info = try await loop.perform { loop, waiter in
            loop.declare(
                .queue(
                    name: name, durable: durable, exclusive: exclusive, autoDelete: autoDelete,
                    arguments: arguments),
                on: id, waiter)
        }
        return info ?? AMQPQueueInfo(name: name, messageCount: 0, consumerCount: 0)
    }

    public func bindQueue(
        _ queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]
    )
        async throws
    {
        let id = id
        _ = try await loop.perform { loop, waiter in
            loop.declare(
                .binding(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments),
                on: id, waiter)
        }
    }

    /// Deletes a queue and forgets it for recovery.
    public func deleteQueue(_ name: String) async throws {
        let id = id
        try await loop.perform { loop, waiter in
            loop.queueOperation(delete: true, queue: name, on: id, waiter)
        }
    }

    /// Removes the queue's ready messages (not the unacknowledged ones).
    public func purgeQueue(_ name: String) async throws {
        let id = id
        try await loop.perform { loop, waiter in
            loop.queueOperation(delete: false, queue: name, on: id, waiter)
        }
    }

    /// Puts the channel in confirm mode: from now on `publish` returns only once the broker took
    /// responsibility for the message (written to disk for persistent messages in durable queues).
    public func enablePublisherConfirms() async throws {
        let id = id
        try await loop.perform { loop, waiter in loop.enableConfirms(on: id, waiter) }
    }

    /// Publishes a message.
    ///
    /// Without confirms it returns once the message is written to the socket. With confirms it returns
    /// when the broker acks it and throws `.nacked` when the broker refuses it, `.returned` when it is
    /// `mandatory` and no queue is bound for it, and `.connectionClosed` when the connection dropped before
    /// the confirm (then it is unknown whether the broker has it: publish again). Many publishes may be in
    /// flight at once from concurrent tasks; they are pipelined, not confirmed one by one.
    public func publish(
        _ body: [UInt8], exchange: String, routingKey: String, properties: AMQPProperties = .init(),
        mandatory: Bool = false
    ) async throws {
        let id = id
        try await loop.perform { loop, waiter in
            loop.publish(
                body, exchange: exchange, routingKey: routingKey, properties: properties,
                mandatory: mandatory, on: id,
                waiter)
        }
    }

    /// How many unacknowledged deliveries each consumer on this channel may hold; also the most a
    /// consumer's sequence ever buffers. Re-applied after recovery.
    public func setPrefetch(_ count: UInt16) async throws {
        let id = id
        try await loop.perform { loop, waiter in loop.setPrefetch(count, on: id, waiter) }
    }

    /// Starts consuming with manual acknowledgement. The returned sequence yields deliveries until the
    /// channel or connection is closed (then it ends), the broker cancels the consumer (then it throws
    /// `.consumerCancelled`), or the iterating task stops (then the consumer is cancelled). It survives
    /// reconnections: after one it continues with redelivered messages.
    public func consume(queue: String, consumerTag: String? = nil) async throws -> AMQPConsumer {
        let id = id
        let tag = consumerTag ?? loop.nextConsumerTag()
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: AMQPDelivery.self, throwing: (any Error).self, bufferingPolicy: .unbounded)
        continuation.onTermination = { [weak loop = loop] _ in
            loop?.submit(
                ConnectionLoop.Command(
                    whenReady: false, run: { $0.cancelConsumer(tag: tag, on: id) }, fail: { _ in }))
        }
        do {
            try await loop.perform { loop, waiter in
                loop.consume(queue: queue, tag: tag, continuation: continuation, on: id, waiter)
            }
        } catch {
            continuation.finish(throwing: error)
            throw error
        }
        return AMQPConsumer(stream: stream, consumerTag: tag, channel: self)
    }

    /// Acknowledges a delivery (and all earlier ones on this channel when `multiple`).
    ///
    /// Acks are pipelined: this returns once the ack is queued, in order, for the connection's thread,
    /// without waiting for the write, so a consumer is not slowed by a round trip per message. It throws
    /// only when the delivery came from another channel or the connection is closed for good. A
    /// delivery received before a reconnection is stale: acking it does nothing and does not throw, since
    /// its tag would name a different message now; the broker redelivers it anyway.
    public func ack(_ delivery: AMQPDelivery, multiple: Bool = false) async throws {
        try settle(delivery, .ack(multiple: multiple))
    }

    /// Negatively acknowledges a delivery: requeued, or dead-lettered / dropped when `requeue` is false.
    /// Pipelined like `ack`.
    public func nack(_ delivery: AMQPDelivery, requeue: Bool) async throws {
        try settle(delivery, .nack(multiple: false, requeue: requeue))
    }

    /// Rejects a delivery: requeued, or dead-lettered (reason "rejected") / dropped when `requeue` is false.
    /// Pipelined like `ack`.
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) async throws {
        try settle(delivery, .reject(requeue: requeue))
    }

    private func settle(_ delivery: AMQPDelivery, _ settlement: ConnectionLoop.Settlement) throws {
        guard delivery.channelID == id else {
            throw AMQPError(
                .protocolError, operation: "basic.ack",
                reason: "the delivery came from channel \(delivery.channelID), not channel \(id)")
        }
        let id = id
        // Runs in any connection state: a stale delivery is recognised, not parked until recovery.
        try loop.submitOrThrow(
            ConnectionLoop.Command(
                whenReady: false, run: { $0.settle(delivery, settlement, on: id) }, fail: { _ in },
                isSettlement: true))
    }

    /// Fetches one message with manual acknowledgement, or nil when the queue is empty.
    public func get(queue: String) async throws -> AMQPDelivery? {
        let id = id
        return try await loop.perform { loop, waiter in loop.get(queue: queue, on: id, waiter) }
    }

    /// Closes the channel; its consumers end and its unacknowledged messages return to their queues.
    public func close() async throws {
        let id = id
        try await loop.perform(whenReady: false) { loop, waiter in loop.closeChannel(id, waiter) }
    }
}
