import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one thread that owns a connection's libpq handle: it runs the connection's blocking calls and,
/// as a Swift `TaskExecutor`, the code of Tasks that prefer it (`PGPool.withConnection` bodies).
///
/// A body running here calls libpq directly instead of handing each statement to another thread and
/// waiting to be woken again, which is most of the client's cost per statement on a busy machine.
/// The thread is not part of Swift's cooperative pool, so blocking it is allowed. After `stop()` it
/// exits, and work still arriving runs on Dispatch's global queue (where closed handles fail at once).
final class PGConnectionThread: TaskExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case block(@Sendable () -> Void)
    }

    private struct Queue: ~Copyable {
        var pending: [Work] = []
        var stopping = false
        var stopped = false
        /// Callers of `join()` waiting for the thread to end.
        var joiners: [CheckedContinuation<Void, Never>] = []
    }

    // NSCondition guards `queue` (its lock) and wakes the thread (its condition).
    private let condition = NSCondition()
    private var queue = Queue()

    /// Marks threads with the executor they belong to, for `isCurrent`.
    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        PGThreads.all.started()
        thread.start()
    }

    /// True on this executor's own thread, where the connection's libpq calls may run inline.
    var isCurrent: Bool {
        pthread_getspecific(Self.currentKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    /// Runs `block` on the thread after the work queued before it.
    func async(_ block: @escaping @Sendable () -> Void) {
        submit(.block(block))
    }

    /// Lets the thread exit once the queued work is done.
    func stop() {
        condition.lock()
        queue.stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Returns once the thread has ended (after `stop()` and the work queued before it): its libpq
    /// calls, `PQfinish` included, are over. Waits without blocking a thread.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            guard !queue.stopped else {
                condition.unlock()
                continuation.resume()
                return
            }
            queue.joiners.append(continuation)
            condition.unlock()
        }
    }

    private func submit(_ work: Work) {
        condition.lock()
        guard !queue.stopped else {
            condition.unlock()
            DispatchQueue.global().async { self.perform(work) }
            return
        }
        queue.pending.append(work)
        condition.signal()
        condition.unlock()
    }

    private func perform(_ work: Work) {
        switch work {
        case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
        case .block(let block): block()
        }
    }

    private func run() {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        while true {
            condition.lock()
            while queue.pending.isEmpty, !queue.stopping { condition.wait() }
            if queue.pending.isEmpty {
                queue.stopped = true
                let joiners = queue.joiners
                queue.joiners = []
                condition.unlock()
                pthread_setspecific(Self.currentKey, nil)
                PGThreads.all.ended()
                for joiner in joiners { joiner.resume() }
                return
            }
            let batch = queue.pending
            queue.pending.removeAll(keepingCapacity: true)
            condition.unlock()
            for work in batch { perform(work) }
        }
    }
}
