import Foundation
import KeelCore
import Synchronization

/// Run snapshots written once at the end of a transaction instead of after every advance in it.
///
/// A result recorded with its run's next step claimed in place (`AttemptStore.complete(_:with:
/// continuingIn:)`) advances the run twice in one transaction (`step.succeeded`, then `step.started`);
/// each advance used to encode and write the whole snapshot. Inside the scope of a `DeferredSnapshots`,
/// `RunAdvancer` keeps the newest state of each run here (and reads it back on the next advance, the
/// run's row still locked), and `flush` writes each run's row once before the commit. History is
/// still appended by each advance as it happens.
final class DeferredSnapshots: Sendable {
    @TaskLocal static var current: DeferredSnapshots?

    struct Pending: Sendable {
        var state: RunState
        var lastSeq: Int
    }

    private let pending = Mutex<[RunID: Pending]>([:])

    func pending(of run: RunID) -> Pending? {
        pending.withLock { $0[run] }
    }

    func keep(_ state: RunState, lastSeq: Int, of run: RunID) {
        pending.withLock { $0[run] = Pending(state: state, lastSeq: lastSeq) }
    }

    /// Takes every pending write, leaving none.
    func take() -> [(run: RunID, pending: Pending)] {
        pending.withLock { pending in
            defer { pending.removeAll() }
            return pending.map { ($0.key, $0.value) }
        }
    }
}
