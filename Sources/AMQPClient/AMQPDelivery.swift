/// A message handed to a consumer or returned by `get`; acknowledge it on the channel it came from.
public struct AMQPDelivery: Sendable {
    public var body: [UInt8]
    public var properties: AMQPProperties
    /// The broker's tag for this delivery on its channel; only meaningful with the channel and connection
    /// incarnation it arrived on (see `AMQPChannel.ack`).
    public var deliveryTag: UInt64
    /// True when the broker delivered this message before (to this or another consumer) without an ack.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    /// The consumer this was delivered to; nil for `get`.
    public var consumerTag: String?
    /// For `get`: how many messages remained in the queue.
    public var messageCount: UInt32?

    /// Which channel and which incarnation of it (it changes on each recovery) issued `deliveryTag`.
    let channelID: UInt16
    let epoch: UInt64

    /// A delivery built by hand, e.g. to unit-test message handling; it cannot be acknowledged on a channel.
    public init(
        body: [UInt8], properties: AMQPProperties = AMQPProperties(), deliveryTag: UInt64 = 0,
        redelivered: Bool = false, exchange: String = "", routingKey: String = "", consumerTag: String? = nil
    ) {
        self.init(
            body: body, properties: properties, deliveryTag: deliveryTag, redelivered: redelivered,
            exchange: exchange, routingKey: routingKey, consumerTag: consumerTag, messageCount: nil,
            channelID: 0, epoch: 0)
    }

    init(
        body: [UInt8], properties: AMQPProperties, deliveryTag: UInt64, redelivered: Bool,
        exchange: String,
        routingKey: String, consumerTag: String?, messageCount: UInt32?, channelID: UInt16,
        epoch: UInt64
    ) {
        self.body = body
        self.properties = properties
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.messageCount = messageCount
        self.channelID = channelID
        self.epoch = epoch
    }
}
