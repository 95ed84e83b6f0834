import CRabbitMQ

/// What the I/O thread knows about one channel number: its RPC queue, consumers, confirm tracking and
/// the message being assembled from frames. Lives across reconnections (the number stays the same);
/// used only on the I/O thread.
final class ChannelState {
    enum Status {
        /// channel.open sent, waiting for open-ok.
        case opening
        case open
        /// The connection was lost; the channel is re-opened by recovery.
        case awaitingRecovery
        /// Closed by the broker (with its error) or by the client; never used again.
        case closed(AMQPError)
    }

    let id: UInt16
    var status: Status = .opening
    /// Changes each time the channel is (re-)opened, so delivery tags of an earlier incarnation are
    /// recognised as stale.
    var epoch: UInt64 = 0
    /// True once the first channel.open succeeded: from then on recovery re-opens the channel.
    var wasOpened = false

    /// Synchronous methods in order; the first is on the wire when `rpcInFlight`.
    var rpcs: [ChannelRPC] = []
    var rpcInFlight = false

    /// What recovery re-applies.
    var prefetch: UInt16?
    var confirmMode = false
    var consumers: [String: ConsumerRecord] = [:]

    /// Deliveries handed to consumers and not settled yet, in this incarnation.
    var outstanding = OutstandingDeliveries()
    /// In-order acks not written yet: one `basic.ack` with `multiple` up to this tag settles them all.
    var pendingAck: UInt64?

    var nextPublishSequence: UInt64 = 1
    var unconfirmed = PendingConfirms()
    var content: ContentAssembly?

    init(id: UInt16) {
        self.id = id
    }

    var isOpen: Bool {
        if case .open = status { true } else { false }
    }

    /// The error a call on this channel gets when the channel cannot be used.
    var unusableError: AMQPError {
        if case .closed(let error) = status { return error }
        return AMQPError(.connectionClosed, reason: "channel \(id) is not open")
    }
}

/// A synchronous AMQP method on a channel: sent when it reaches the head of the channel's queue,
/// completed by the broker's reply (or by a failure).
struct ChannelRPC {
    enum Outcome {
        /// The reply method; its decoded pointer is valid only during the completion call.
        case reply(amqp_method_t)
        /// A basic.get-ok with its assembled message.
        case delivery(AMQPDelivery)
        case failure(AMQPError)
    }

    /// For errors and logs, e.g. "queue.declare 'jobs'".
    let operation: String
    let replies: [amqp_method_number_t]
    /// True when nobody waits for the result any more (a cancelled task): the method is not sent.
    let isAbandoned: () -> Bool
    /// Writes the method; returns a librabbitmq status.
    let send: (ConnectionLoop) -> Int32
    let complete: (Outcome) -> Void
}

/// A consumer registered on a channel, re-consumed by recovery with the same tag.
struct ConsumerRecord {
    let queue: String
    let continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
}

/// A message arriving as method + header + body frames.
struct ContentAssembly {
    enum Kind {
        case deliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool)
        case getOK(deliveryTag: UInt64, redelivered: Bool, messageCount: UInt32)
        case returned(replyCode: UInt16, replyText: String)
    }

    let kind: Kind
    let exchange: String
    let routingKey: String
    var properties = AMQPProperties()
    var bodySize = 0
    var body: [UInt8] = []
    var headerReceived = false

    var isComplete: Bool { headerReceived && body.count >= bodySize }
}

/// Delivery tags handed to consumers and not yet acked, nacked or rejected, in ascending order (the
/// broker numbers deliveries in order). Bounded by the prefetch.
struct OutstandingDeliveries {
    private var tags: [UInt64] = []
    private var head = 0

    var count: Int { tags.count - head }

    /// The lowest unsettled tag.
    var first: UInt64? { head < tags.count ? tags[head] : nil }

    mutating func delivered(_ tag: UInt64) {
        tags.append(tag)
    }

    mutating func settled(_ tag: UInt64, multiple: Bool) {
        if multiple {
            while head < tags.count, tags[head] <= tag { head += 1 }
        } else if head < tags.count, tags[head] == tag {
            head += 1
        } else if let index = tags[head...].firstIndex(of: tag) {
            tags.remove(at: index)
        }
        if head == tags.count {
            tags.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 {
            tags.removeFirst(head)
            head = 0
        }
    }
}
