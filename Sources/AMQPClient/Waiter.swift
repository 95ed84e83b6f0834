import Synchronization

/// A one-shot rendezvous between an async caller and the connection's I/O thread.
///
/// The caller suspends in `wait`; the I/O thread calls `resume` exactly once when the work is done.
/// Task cancellation resumes the caller at once with `CancellationError`; a later `resume` from the
/// I/O thread is then ignored, and the I/O thread can ask `isFinished` to skip work nobody awaits.
final class Waiter<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case finished
    }

    private let state = Mutex<State>(.idle)

    /// Suspends until `resume`, running `submit` once the continuation is in place.
    func wait(submit: () -> Void) async throws -> Value {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Value, any Error>) in
                let alreadyFinished = state.withLock { state -> Bool in
                    if case .idle = state {
                        state = .waiting(continuation)
                        return false
                    }
                    return true
                }
                if alreadyFinished {
                    continuation.resume(throwing: CancellationError())
                } else {
                    submit()
                }
            }
        } onCancel: {
            resume(with: .failure(CancellationError()))
        }
    }

    /// True once the waiter was resumed or cancelled.
    var isFinished: Bool {
        state.withLock { state in
            if case .finished = state { true } else { false }
        }
    }

    func resume(with result: Result<Value, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .idle:
                state = .finished
                return nil
            case .waiting(let continuation):
                state = .finished
                return continuation
            case .finished:
                return nil
            }
        }
        continuation?.resume(with: result)
    }

    func resume(returning value: Value) { resume(with: .success(value)) }
    func resume(throwing error: any Error) { resume(with: .failure(error)) }
}
