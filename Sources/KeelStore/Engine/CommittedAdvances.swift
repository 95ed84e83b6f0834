import Synchronization

/// The advances made inside `RunAdvancer.withTransaction`, kept until its commit. Advances made in a
/// transaction opened some other way find no collector and are not counted.
final class CommittedAdvances: Sendable {
    @TaskLocal static var current: CommittedAdvances?

    private let made = Mutex<[RunAdvance]>([])

    var advances: [RunAdvance] { made.withLock { $0 } }

    func append(_ advance: RunAdvance) {
        made.withLock { $0.append(advance) }
    }

    func removeAll() {
        made.withLock { $0.removeAll() }
    }
}
