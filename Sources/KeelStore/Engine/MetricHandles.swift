import Metrics
import Synchronization

/// The counters and timers `RunMetrics` records into, made once per name and label set: making one
/// through the factory on every record costs a registry look-up and label processing per fact, on the
/// path every step takes.
final class MetricHandles: Sendable {
    private struct Key: Hashable {
        let label: String
        let dimensions: [String]

        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions.flatMap { [$0.0, $0.1] }
        }
    }

    /// Nil for the process's bootstrapped factory, read when a handle is first made.
    private let factory: (any MetricsFactory)?
    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[Key: Timer]>([:])
    private let amounts = Mutex<[Key: FloatingPointCounter]>([:])

    init(factory: (any MetricsFactory)?) {
        self.factory = factory
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        Self.handle(in: counters, Key(label, dimensions)) {
            factory.map { Counter(label: label, dimensions: dimensions, factory: $0) }
                ?? Counter(label: label, dimensions: dimensions)
        }
    }

    /// A counter of fractional amounts (machine minutes, money).
    func amountCounter(_ label: String, _ dimensions: [(String, String)]) -> FloatingPointCounter {
        Self.handle(in: amounts, Key(label, dimensions)) {
            factory.map { FloatingPointCounter(label: label, dimensions: dimensions, factory: $0) }
                ?? FloatingPointCounter(label: label, dimensions: dimensions)
        }
    }

    func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        Self.handle(in: timers, Key(label, dimensions)) {
            factory.map { Timer(label: label, dimensions: dimensions, factory: $0) }
                ?? Timer(label: label, dimensions: dimensions)
        }
    }

    /// The handle made for `key` before, or the one `make` makes now, kept for next time.
    private static func handle<Handle: Sendable>(
        in cache: borrowing Mutex<[Key: Handle]>, _ key: Key, make: () -> Handle
    ) -> Handle {
        cache.withLock { made in
            if let handle = made[key] { return handle }
            let handle = make()
            made[key] = handle
            return handle
        }
    }
}
