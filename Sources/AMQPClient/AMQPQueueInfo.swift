/// What the broker reported when a queue was declared.
public struct AMQPQueueInfo: Sendable, Hashable {
    /// The queue's name; the generated one when the declaration asked for "".
    public var name: String
    /// Messages ready for delivery (not counting unacknowledged ones).
    public var messageCount: UInt32
    /// Consumers currently attached.
    public var consumerCount: UInt32

    public init(name: String, messageCount: UInt32, consumerCount: UInt32) {
        self.name = name
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}
