import Synchronization

/// At most `limit` attempts running in this executor at once. A dispatch is acked as soon as its
/// attempt is claimed, so the broker's prefetch alone would no longer bound the work: the consumer
/// takes a place here before claiming and the attempt gives it back when it ends, and while all places
/// are taken, deliveries stay unacked and the broker stops sending (backpressure).
final class AttemptLimit: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
    }

    private let state: Mutex<State>

    init(_ limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Waits for a place; throws `CancellationError` if the task is cancelled first.
    func acquire() async throws {
        let id = state.withLock { state -> Int? in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock {
                state -> (id: Int, continuation: CheckedContinuation<Void, any Error>)? in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    func release() {
        let waiter = state.withLock {
            state -> (id: Int, continuation: CheckedContinuation<Void, any Error>)? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.continuation.resume()
    }
}
