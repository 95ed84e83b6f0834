import Foundation
import Synchronization
import Testing

@testable import step_executor

/// The hand-over between a process's reading thread and the task storing its output.
@Suite struct OutputChannelTests {
    /// How many `send` calls have returned.
    final class Counter: Sendable {
        private let value = Atomic(0)
        func increment() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    /// Sends `chunks` from a thread of its own, as the process supervisor does; `sent` counts what
    /// `send` has returned for.
    static func sendOnThread(_ channel: OutputChannel, _ chunks: [[UInt8]], sent: Counter) {
        let thread = Thread {
            for chunk in chunks {
                channel.send(chunk)
                sent.increment()
            }
            channel.finish()
        }
        thread.start()
    }

    @Test func deliversEveryChunkInOrderThenEnds() async {
        let channel = OutputChannel(capacity: 8)
        let chunks = (0..<200).map { [UInt8(truncatingIfNeeded: $0), 1, 2] }
        let sent = Counter()
        Self.sendOnThread(channel, chunks, sent: sent)
        var received: [[UInt8]] = []
        for await chunk in channel { received.append(chunk) }
        #expect(received == chunks)
    }

    @Test func aFullChannelHoldsTheSenderUntilTheConsumerTakes() async throws {
        let channel = OutputChannel(capacity: 4)
        let sent = Counter()
        Self.sendOnThread(channel, [[1, 2, 3, 4], [5], [6]], sent: sent)
        // The first chunk fills the channel; the sender cannot get past the second until one is taken.
        let started = ContinuousClock.now
        while sent.count < 1, ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(sent.count == 1)
        var iterator = channel.makeAsyncIterator()
        #expect(await iterator.next() == [1, 2, 3, 4])
        #expect(await iterator.next() == [5])
        #expect(await iterator.next() == [6])
        #expect(await iterator.next() == nil)
    }

    @Test func closingReleasesABlockedSenderAndDropsTheRest() async throws {
        let channel = OutputChannel(capacity: 1)
        let sent = Counter()
        Self.sendOnThread(channel, [[1], [2], [3], [4]], sent: sent)
        let started = ContinuousClock.now
        while sent.count < 1, ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
        }
        channel.close()
        // A sender still blocked after close would never count all four.
        while sent.count < 4, ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(sent.count == 4)
        var iterator = channel.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }
}
