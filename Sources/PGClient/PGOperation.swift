import CLibPQ
import Dispatch
import Synchronization

/// Sends cancel requests for a connection's running statement. libpq documents `PQcancel` as safe to
/// call from any thread, so this is the one piece of a connection used off its queue.
final class PGCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer?

    init(connection: OpaquePointer) {
        cancel = PQgetCancel(connection)
    }

    deinit {
        if let cancel { PQfreeCancel(cancel) }
    }

    /// Asks the server to cancel whatever the connection runs now; returns whether the request was sent.
    @discardableResult
    func send() -> Bool {
        guard let cancel else { return false }
        var errorBuffer = [CChar](repeating: 0, count: 256)
        return PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count)) == 1
    }
}

/// One blocking operation on a connection's queue and its cancellation: a cancel before the
/// operation starts skips it; a cancel while it runs sends `PQcancel`; a cancel afterwards does
/// nothing.
///
/// `PQcancel` opens a connection to the server and waits for its answer, so it never runs on the
/// cancelling thread (often one of Swift's cooperative pool): it runs on a Dispatch worker, and
/// `finish()`, on the connection's own thread, waits for it, so a late cancel request cannot hit the
/// connection's next statement.
final class PGOperation: Sendable {
    private enum Phase {
        case waiting, running, cancelRequested, cancelledBeforeStart, finished
    }

    private struct State {
        var phase = Phase.waiting
        /// Signalled once a cancel request sent while the operation ran has gone out.
        var cancelSent: DispatchSemaphore?
    }

    private let state = Mutex(State())
    private let canceller: PGCanceller?

    init(canceller: PGCanceller?) {
        self.canceller = canceller
    }

    /// Marks the operation running; false when it was cancelled before it could start.
    func start() -> Bool {
        state.withLock { state in
            guard case .waiting = state.phase else { return false }
            state.phase = .running
            return true
        }
    }

    /// Marks the operation finished, after any cancel request sent meanwhile has gone out; returns
    /// whether a cancel was requested while it ran.
    func finish() -> Bool {
        let (requested, cancelSent) = state.withLock { state in
            defer { state.phase = .finished }
            if case .cancelRequested = state.phase { return (true, state.cancelSent) }
            return (false, nil)
        }
        cancelSent?.wait()
        return requested
    }

    /// Whether the operation should stop: polled by operations (like connecting) that can check.
    var isCancelled: Bool {
        state.withLock { state in
            switch state.phase {
            case .cancelRequested, .cancelledBeforeStart: true
            case .waiting, .running, .finished: false
            }
        }
    }

    func cancel() {
        let send: DispatchSemaphore? = state.withLock { state in
            switch state.phase {
            case .waiting:
                state.phase = .cancelledBeforeStart
                return nil
            case .running:
                state.phase = .cancelRequested
                guard canceller != nil else { return nil }
                let sent = DispatchSemaphore(value: 0)
                state.cancelSent = sent
                return sent
            case .cancelRequested, .cancelledBeforeStart, .finished:
                return nil
            }
        }
        guard let send, let canceller else { return }
        DispatchQueue.global().async {
            canceller.send()
            send.signal()
        }
    }
}
