import Foundation
import KeelCore
import Synchronization

/// Lets the executor that records a step's result take its run's next step itself, in the same
/// transaction, instead of sending it through the outbox and the broker to whichever executor takes it
/// ("continue in place"). A chain of steps then costs one transaction per step, not a dispatch row, a
/// relay pass, a broker round trip and a claim transaction each.
///
/// `AttemptStore.complete` sets one for the transaction that records the result; `RunCommands` offers
/// it each attempt it dispatches. It takes at most one: an attempt for the executor's own pool that
/// needs no concurrency slot. Anything else goes through the broker as before, and so does everything
/// once the executor's chain reached its cap (the caller then sets none), so one long run cannot keep
/// an executor from the queue's other runs.
final class InPlaceContinuation: Sendable {
    @TaskLocal static var current: InPlaceContinuation?

    /// The pool the executor serves: `StepRoute.pool`.
    let pool: String
    /// The run whose result is being recorded, still locked: only its own next attempt can be claimed
    /// in place (a finished child's parent, advanced in the same transaction, dispatches as usual).
    let runID: RunID
    private let taken = Mutex<StepDispatch?>(nil)

    init(pool: String, runID: RunID) {
        self.pool = pool
        self.runID = runID
    }

    /// The attempt taken, if any.
    var dispatch: StepDispatch? { taken.withLock { $0 } }

    /// Takes `dispatch` when it is for this pool and nothing was taken yet; false: dispatch it as usual.
    func take(_ dispatch: StepDispatch, route: StepRoute) -> Bool {
        guard route.pool == pool, dispatch.runID == runID else { return false }
        return taken.withLock { taken in
            guard taken == nil else { return false }
            taken = dispatch
            return true
        }
    }
}
