import Synchronization

/// The librabbitmq threads of the process still running: one per connection (`ConnectionLoop`).
/// A service waits for none to be left before it exits, so no `amqp_destroy_connection` (and the
/// OpenSSL calls in it) can run while the process tears itself down.
public enum AMQPThreads {
    static let running = Atomic<Int>(0)

    /// How many are running now.
    public static var count: Int { running.load(ordering: .acquiring) }

    static func started() { running.add(1, ordering: .acquiringAndReleasing) }
    static func ended() { running.subtract(1, ordering: .acquiringAndReleasing) }

    /// Waits until every librabbitmq thread has ended, or `timeout` passed; returns whether they all ended.
    public static func waitUntilAllEnded(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while count > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}
