import Synchronization

/// A limit on how many tests of this process do one kind of heavy work on a shared server at once.
///
/// Swift Testing starts every test of a run together. Unlimited, the first seconds of a run sent up to 151
/// `CREATE DATABASE` statements to the one test PostgreSQL at once: each copies a template through the
/// WAL, and while they all ran, a new connection went unanswered for up to 6.7 s here (tests give a
/// connect 10 s), and on CI a plain `SELECT` missed a 500 ms statement timeout. Tests queued here, first
/// come first served, start a little later instead of failing for a server the suite itself overloaded.
///
/// A waiting task is not woken by cancellation: what it waits for is short and always ends.
public final class Admission: Sendable {
    struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    /// At most `width` callers run inside `run` at once.
    public init(width: Int) {
        precondition(width > 0, "an admission needs room for one")
        state = Mutex(State(free: width))
    }

    /// Waits for room, runs `body`, and makes room again however `body` ends.
    @discardableResult
    public func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
