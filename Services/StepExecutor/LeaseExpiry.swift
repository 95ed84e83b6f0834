import Synchronization

/// When an attempt's lease surely ends, by this executor's clock: moved on by every renewal.
final class LeaseExpiry: Sendable {
    private let value: Mutex<ContinuousClock.Instant>

    init(_ instant: ContinuousClock.Instant) {
        value = Mutex(instant)
    }

    var instant: ContinuousClock.Instant { value.withLock { $0 } }

    func extend(to instant: ContinuousClock.Instant) {
        value.withLock { $0 = max($0, instant) }
    }
}
