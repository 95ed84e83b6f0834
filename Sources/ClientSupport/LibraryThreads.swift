import Synchronization

/// The threads a blocking C library's client keeps running (libpq's connection and listen threads,
/// librabbitmq's connection loops), counted so that a service can wait for none to be left before it
/// exits: then no `PQfinish` or `amqp_destroy_connection` (and the OpenSSL calls in them) runs while
/// the process tears itself down.
public final class LibraryThreads: Sendable {
    private let running = Atomic<Int>(0)

    public init() {}

    /// How many are running now.
    public var count: Int { running.load(ordering: .acquiring) }

    public func started() { running.add(1, ordering: .acquiringAndReleasing) }
    public func ended() { running.subtract(1, ordering: .acquiringAndReleasing) }

    /// Waits until every thread has ended, or `timeout` passed; returns whether they all ended.
    public func waitUntilAllEnded(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while count > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}
