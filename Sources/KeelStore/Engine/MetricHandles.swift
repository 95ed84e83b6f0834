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
        counters.withLock { made in
            let key = Key(label, dimensions)
            if let counter = made[key] { return counter }
            let counter =
                factory.map { Counter(label: label, dimensions: dimensions, factory: $0) }
                ?? Counter(label: label, dimensions: dimensions)
            made[key] = counter
            return counter
        }
    }

    /// A counter of fractional amounts (machine minutes, money).
    func amountCounter(_ label: String, _ dimensions: [(String, String)]) -> FloatingPointCounter {
        amounts.withLock { made in
            let key = Key(label, dimensions)
            if let counter = made[key] { return counter }
            let counter =
                factory.map { FloatingPointCounter(label: label, dimensions: dimensions, factory: $0) }
                ?? FloatingPointCounter(label: label, dimensions: dimensions)
            made[key] = counter
            return counter
        }
    }

    func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        timers.withLock { made in
            let key = Key(label, dimensions)
            if let timer = made[key] { return timer }
            let timer =
                factory.map { Timer(label: label, dimensions: dimensions, factory: $0) }
                ?? Timer(label: label, dimensions: dimensions)
            made[key] = timer
            return timer
        }
    }
}
