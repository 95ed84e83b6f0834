public import Logging

/// A connection to RabbitMQ that survives broker restarts.
///
/// One dedicated thread owns the underlying librabbitmq connection and multiplexes all its channels;
/// async calls are handed to it and resumed from it, so no blocking C call runs on Swift's cooperative
/// thread pool. When the connection is lost it reconnects with backoff and restores declared topology,
/// channels, prefetch, confirm mode and consumers (see the module README).
public final class AMQPConnection: Sendable {
    let loop: ConnectionLoop

    private init(loop: ConnectionLoop) {
        self.loop = loop
    }

    deinit {
        loop.requestShutdown()
    }

    /// Connects and logs in; fails with `.connectionFailed` (no retry) when the broker is unreachable or
    /// refuses the login. Recovery applies only to connections that were established once.
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger) async throws
        -> AMQPConnection
    {
        AMQPConnection(
            loop: try await ConnectionLoop.start(configuration: configuration, logger: logger))
    }

    /// Opens a channel: the unit of ordering, prefetch and publisher confirms. Use one per concurrent
    /// consumer or publisher stream; channels are cheap.
    public func openChannel() async throws -> AMQPChannel {
        let id = try await loop.perform { loop, waiter in loop.openChannel(waiter) }
        return AMQPChannel(connection: self, id: id)
    }

    /// Opens a channel, runs `body` with it, and closes it however `body` ends: returned, threw, or was
    /// cancelled. The scope that opens a channel closes it (NIO's `executeThenClose` shape), so no path
    /// leaves one open on the broker. A close that fails after `body` returned is not reported: `body`'s
    /// work is done, and a channel that cannot be closed is gone with its connection.
    public func withChannel<Result>(_ body: (AMQPChannel) async throws -> Result) async throws -> Result {
        let channel = try await openChannel()
        let result: Result
        do {
            result = try await body(channel)
        } catch {
            try? await channel.close()
            throw error
        }
        try? await channel.close()
        return result
    }

    /// Closes the connection; consumers end, calls in flight fail with `.connectionClosed`.
    public func close() async {
        // Closing must finish even when the calling task is cancelled, so this waits without a Waiter.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.submit(
                ConnectionLoop.Command(
                    whenReady: false,
                    run: { loop in
                        loop.close(byUser: true)
                        continuation.resume()
                    },
                    fail: { _ in continuation.resume() }))
        }
    }
}
