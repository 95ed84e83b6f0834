public import AMQPClient
public import Logging
public import ServiceLifecycle
import Synchronization

/// Owns a service's broker connection for the life of the process.
///
/// The first connection is made in `run()`, retried with capped backoff, so a service starts (and answers
/// `/health/live`) while the broker is still coming up; once connected, the client's own recovery handles
/// broker restarts. On graceful shutdown the connection is closed.
///
/// A service holds two: one it consumes on and one it publishes on. RabbitMQ blocks a connection that
/// publishes during a resource alarm (`connection.blocked`); on a shared connection that would stop the
/// acks and deliveries of its consumers too.
public final class AMQPConnectionService: Service, Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger
    /// The readiness check's and the dependency gauge's name, e.g. `rabbitmq`.
    let name: String
    let state = Mutex<AMQPConnection?>(nil)

    public init(configuration: AMQPConfiguration, name: String = "rabbitmq", logger: Logger) {
        self.configuration = configuration
        self.name = name
        self.logger = logger
    }

    /// The connection, once made.
    public var connection: AMQPConnection? { state.withLock { $0 } }

    /// The broker account this connection logs in as: the `user-id` its messages may carry.
    public var user: String { configuration.user }

    /// The connection, waiting for the first one to be made; throws `CancellationError` if the task is
    /// cancelled first. Consumers and relays start with this instead of failing while the broker boots.
    public func connected() async throws -> AMQPConnection {
        while true {
            if let connection { return connection }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    public func run() async throws {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await AMQPConnection.connect(configuration, logger: logger)
                state.withLock { $0 = connection }
                logger.info("connected to the broker", metadata: ["connection": "\(name)"])
                break
            } catch {
                logger.warning(
                    "broker connection failed; retrying",
                    metadata: ["error": .string(String(describing: error)), "retry_in": .string("\(delay)")])
                // A shutdown during the pause ends it at once instead of after up to five seconds.
                let pause = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                delay = min(delay * 2, .seconds(5))
            }
        }
        try? await gracefulShutdown()
        if let connection = state.withLock({ current in
            defer { current = nil }
            return current
        }) {
            await connection.close()
        }
    }

    /// Readiness: connected, and the broker answers a channel open.
    public var readinessCheck: ReadinessCheck {
        ReadinessCheck(
            name: name,
            reason: { $0 is NotConnected ? "broker connection down" : "broker does not answer" }
        ) { [self] in
            guard let connection else { throw NotConnected() }
            try await connection.withChannel { _ in }
        }
    }

    struct NotConnected: Error, CustomStringConvertible {
        var description: String { "not connected to the broker yet" }
    }
}
