public import Foundation

/// The basic-class properties of a message: its metadata beside the body.
///
/// An empty `headers` table is not sent; a message received without headers has an empty table.
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    /// Persistent messages in durable queues survive a broker restart; the default.
    public var deliveryMode: AMQPDeliveryMode
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string (AMQP's definition).
    public var expiration: String?
    public var messageID: String?
    /// Whole seconds; fractions are dropped on the wire.
    public var timestamp: Date?
    public var type: String?
    /// Checked by RabbitMQ against the connection's user when set.
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = [:],
        deliveryMode: AMQPDeliveryMode = .persistent, priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
        timestamp: Date? = nil,
        type: String? = nil, userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}

/// Whether the broker writes a message to disk in a durable queue.
public enum AMQPDeliveryMode: UInt8, Sendable, Hashable {
    case transient = 1
    case persistent = 2
}
