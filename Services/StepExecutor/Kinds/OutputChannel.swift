import Foundation

/// A bounded hand-over of output chunks from the thread that reads a process's pipes to the task that
/// stores them: the reader blocks (on its own thread, never the cooperative pool) while `capacity`
/// bytes wait, so a slow store slows the process down instead of filling the executor's memory.
///
/// Once the consumer is done (`close()`, also when storing failed), further chunks are dropped, so the
/// reader can never block forever.
final class OutputChannel: Sendable, AsyncSequence {
    typealias Element = [UInt8]

    private struct State {
        var queue: [[UInt8]] = []
        var queuedBytes = 0
        var finished = false
        var closed = false
        var waiter: CheckedContinuation<[UInt8]?, Never>?
    }

    let capacity: Int
    private let condition = NSCondition()
    /// Read and written only while `condition` is locked.
    private nonisolated(unsafe) var state = State()

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
    }

    /// Hands a chunk over; blocks the calling thread while the channel is full.
    func send(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        condition.lock()
        while state.queuedBytes >= capacity && !state.closed { condition.wait() }
        if state.closed {
            condition.unlock()
            return
        }
        if let waiter = state.waiter {
            state.waiter = nil
            condition.unlock()
            waiter.resume(returning: chunk)
            return
        }
        state.queue.append(chunk)
        state.queuedBytes += chunk.count
        condition.unlock()
    }

    /// No more chunks will be sent.
    func finish() {
        condition.lock()
        state.finished = true
        let waiter = state.waiter
        state.waiter = nil
        condition.unlock()
        waiter?.resume(returning: nil)
    }

    /// The consumer is gone: drop what waits and whatever comes, and release a blocked sender.
    func close() {
        condition.lock()
        state.closed = true
        state.queue = []
        state.queuedBytes = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, nil once the sender finished and everything was taken.
    func next() async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            condition.lock()
            if !state.queue.isEmpty {
                let chunk = state.queue.removeFirst()
                state.queuedBytes -= chunk.count
                condition.broadcast()
                condition.unlock()
                continuation.resume(returning: chunk)
            } else if state.finished || state.closed {
                condition.unlock()
                continuation.resume(returning: nil)
            } else {
                state.waiter = continuation
                condition.unlock()
            }
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(channel: self) }

    struct Iterator: AsyncIteratorProtocol {
        let channel: OutputChannel
        mutating func next() async -> [UInt8]? { await channel.next() }
    }
}
