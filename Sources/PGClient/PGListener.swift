import Foundation
import Logging
import Synchronization

/// Keeps one connection LISTENing on a channel from its own thread, waiting on the socket with a
/// timeout and handing notifications to an AsyncStream; reconnects and listens again when the
/// connection is lost. Stops when the stream's consumer goes away or `stop()` is called.
final class PGListener: Sendable {
    let configuration: PGConfiguration
    let channel: String
    let logger: Logger
    private let continuation: AsyncStream<PGNotification>.Continuation
    private let stopped = Atomic(false)
    private let onStop: @Sendable () -> Void
    /// Whether its thread started and has ended, and the callers of `join()` waiting for it to end.
    private let thread = Mutex<(started: Bool, ended: Bool, joiners: [CheckedContinuation<Void, Never>])>(
        (false, false, []))

    /// How long one wait on the socket lasts; bounds how quickly a stop is noticed.
    static let pollMilliseconds: Int32 = 200

    private init(
        configuration: PGConfiguration, channel: String, logger: Logger,
        continuation: AsyncStream<PGNotification>.Continuation, onStop: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.channel = channel
        self.logger = logger
        self.continuation = continuation
        self.onStop = onStop
    }

    static func make(
        configuration: PGConfiguration, channel: String, logger: Logger,
        onStop: @escaping @Sendable () -> Void
    ) -> (PGListener, PGNotifications) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PGNotification.self, bufferingPolicy: .unbounded)
        let listener = PGListener(
            configuration: configuration, channel: channel, logger: logger, continuation: continuation,
            onStop: onStop)
        continuation.onTermination = { _ in listener.stop() }
        return (listener, PGNotifications(stream: stream))
    }

    /// Starts the thread and returns once LISTEN is active, or throws if the first connection fails.
    func start() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
                let thread = Thread { self.run(ready: ready) }
                thread.name = "keel.pg.listen"
                self.thread.withLock { $0.started = true }
                PGThreads.all.started()
                thread.start()
            }
        } onCancel: {
            stop()
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Returns once the listen thread has ended, its connection closed (at once if it never started).
    /// Call after `stop()`: the thread notices within `pollMilliseconds`.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = thread.withLock { thread in
                guard thread.started, !thread.ended else { return false }
                thread.joiners.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    private func run(ready: CheckedContinuation<Void, any Error>) {
        var ready: CheckedContinuation<Void, any Error>? = ready
        var handle: PGHandle?
        var failures = 0
        while !isStopped {
            guard let current = handle else {
                do {
                    handle = try listeningConnection()
                    failures = 0
                    if let waiting = ready {
                        waiting.resume()
                        ready = nil
                    } else {
                        logger.info(
                            "postgres listen connection re-established", metadata: ["channel": "\(channel)"])
                    }
                } catch {
                    if let waiting = ready {
                        waiting.resume(throwing: error)
                        ready = nil
                        stop()
                        break
                    }
                    failures += 1
                    logger.debug("postgres listen reconnect failed", metadata: ["error": "\(error)"])
                    pause(milliseconds: min(100 << min(failures, 5), 2000))
                }
                continue
            }
            do {
                for notification in try current.waitForNotifications(milliseconds: Self.pollMilliseconds) {
                    continuation.yield(notification)
                }
            } catch {
                logger.warning(
                    "postgres listen connection lost; reconnecting",
                    metadata: ["channel": "\(channel)", "error": "\(error)"])
                current.close()
                handle = nil
            }
        }
        handle?.close()
        ready?.resume(throwing: PGError.cancelled())
        continuation.finish()
        onStop()
        let joiners = thread.withLock { thread in
            thread.ended = true
            defer { thread.joiners = [] }
            return thread.joiners
        }
        PGThreads.all.ended()
        for joiner in joiners { joiner.resume() }
    }

    private func listeningConnection() throws -> PGHandle {
        let handle = try PGHandle.connect(configuration, logger: logger, isCancelled: { isStopped })
        let identifier = "\"" + channel.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try handle.executeScript("LISTEN \(identifier)")
        return handle
    }

    /// Sleeps in short steps so a stop is noticed quickly.
    private func pause(milliseconds: Int) {
        var left = milliseconds
        while left > 0, !isStopped {
            let step = min(left, 50)
            Thread.sleep(forTimeInterval: Double(step) / 1000)
            left -= step
        }
    }
}
