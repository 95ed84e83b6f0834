/// A message sent with `NOTIFY channel, 'payload'` (or `pg_notify`) to a channel being listened to.
public struct PGNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it; equal to your own backend's pid for your own notifications.
    public var pid: Int

    public init(channel: String, payload: String, pid: Int) {
        self.channel = channel
        self.payload = payload
        self.pid = pid
    }
}

/// The notifications of one `PGPool.listen` stream, in the order the server delivered them.
///
/// The stream survives server restarts (it reconnects and listens again; notifications sent while it
/// was disconnected are lost, as PostgreSQL does not queue them). It ends when the consuming Task is
/// cancelled or the pool is closed, and then releases its connection.
public struct PGNotifications: AsyncSequence, Sendable {
    public typealias Element = PGNotification
    public typealias Failure = Never

    let stream: AsyncStream<PGNotification>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<PGNotification>.AsyncIterator

        public mutating func next() async -> PGNotification? {
            await base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }
}
