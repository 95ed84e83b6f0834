/// The deliveries of one consumer, in order, with manual acknowledgement through its channel.
///
/// At most the channel's prefetch of unacknowledged deliveries is ever buffered. Iterate it from one
/// task; stopping the iteration (or cancelling the task) cancels the consumer on the broker.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery

    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    /// The tag the broker knows this consumer by (kept across reconnections).
    public let consumerTag: String
    /// The channel to acknowledge deliveries on.
    public let channel: AMQPChannel

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator

        public mutating func next() async throws -> AMQPDelivery? {
            try await base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }
}
