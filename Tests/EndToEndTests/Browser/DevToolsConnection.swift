import Foundation
import KeelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The Chrome DevTools Protocol over `--remote-debugging-pipe`: JSON messages, each ended by a NUL byte,
/// written to the browser's fd 3 and read from its fd 4.
///
/// Replies are matched to commands by id. Events are kept (the most recent ones) with a sequence number, so
/// a caller takes a ``mark()`` before acting and then waits for an event after it: no race between starting
/// a navigation and subscribing to its load event. The pipe is read on a dedicated thread and written on a
/// dedicated queue, never on Swift's cooperative pool (both block).
final class DevToolsConnection: Sendable {
    /// One event the browser sent.
    struct Event: Sendable {
        let sequence: Int
        let method: String
        /// The flattened session the event belongs to; nil for browser-level events.
        let sessionID: String?
        let params: JSONValue
    }

    private struct PendingReply {
        let method: String
        let continuation: CheckedContinuation<JSONValue, any Error>
    }

    private struct EventWaiter {
        let method: String
        let sessionID: String?
        let after: Int
        let continuation: CheckedContinuation<Event, any Error>
    }

    private struct State {
        var nextID = 1
        var replies: [Int: PendingReply] = [:]
        var events: [Event] = []
        var lastSequence = 0
        var nextWaiterID = 1
        var eventWaiters: [Int: EventWaiter] = [:]
        /// Set once the pipe is closed; every later call fails with it.
        var closed: BrowserError?
        /// False once ``closeCommands()`` closed our write end (its descriptor number may be reused).
        var commandsOpen = true
    }

    /// How many recent events are kept for waiters that mark before acting.
    private static let keptEvents = 2000

    private let state = Mutex(State())
    private let commands: Int32
    private let replies: Int32
    private let writer = DispatchQueue(label: "keel.devtools.writer")
    /// What the browser logged, for the error when it goes away.
    private let browserLog: @Sendable () -> String

    /// Takes ownership of `commands` (our write end, the browser's fd 3) and `replies` (our read end, its
    /// fd 4).
    init(commands: Int32, replies: Int32, browserLog: @escaping @Sendable () -> String) {
        self.commands = commands
        self.replies = replies
        self.browserLog = browserLog
    }

    /// Starts the reader thread; it runs until the browser closes its end of the pipe.
    func start() {
        let thread = Thread { [self] in readUntilClosed() }
        thread.name = "keel.devtools.reader"
        thread.start()
    }

    /// Sends a command (to a page session when `sessionID` is given) and returns its `result`.
    @discardableResult
    func send(
        _ method: String, _ params: JSONObject = [:], sessionID: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let id: Int? = state.withLock { state in
                if let closed = state.closed {
                    continuation.resume(throwing: closed)
                    return nil
                }
                let id = state.nextID
                state.nextID += 1
                state.replies[id] = PendingReply(method: method, continuation: continuation)
                return id
            }
            guard let id else { return }
            var message: JSONObject = [
                "id": .number(JSONNumber(id)), "method": .string(method), "params": .object(params),
            ]
            if let sessionID { message["sessionId"] = .string(sessionID) }
            let bytes = JSONValue.object(message).jsonBytes() + [0]
            writer.async { [self] in
                if !writeAll(bytes) {
                    failReply(id, with: .browserExited(log: browserLog()))
                }
            }
            writer.asyncAfter(deadline: .now() + timeout.timeInterval) { [weak self] in
                self?.failReply(id, with: .timedOut("the reply to \(method)"))
            }
        }
    }

    /// The sequence number of the newest event so far; events after it are what a later wait sees.
    func mark() -> Int {
        state.withLock { $0.lastSequence }
    }

    /// Waits for the first `method` event (of `sessionID`, when given) newer than `mark`.
    func waitForEvent(
        _ method: String, sessionID: String?, after mark: Int, timeout: Duration = .seconds(60)
    ) async throws -> Event {
        try await withCheckedThrowingContinuation { continuation in
            let waiterID: Int? = state.withLock { state in
                if let event = state.events.first(where: {
                    $0.sequence > mark && $0.method == method
                        && (sessionID == nil || $0.sessionID == sessionID)
                }) {
                    continuation.resume(returning: event)
                    return nil
                }
                if let closed = state.closed {
                    continuation.resume(throwing: closed)
                    return nil
                }
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                state.eventWaiters[id] = EventWaiter(
                    method: method, sessionID: sessionID, after: mark, continuation: continuation)
                return id
            }
            guard let waiterID else { return }
            writer.asyncAfter(deadline: .now() + timeout.timeInterval) { [weak self] in
                self?.failWaiter(waiterID, with: .timedOut("the event \(method)"))
            }
        }
    }

    /// Closes our write end (after the writes already queued): the browser takes that as the end of the
    /// session. Returns at once; the writer queue may still be blocked on a browser that stopped reading.
    func closeCommands() {
        writer.async { [self] in
            let wasOpen = state.withLock { state in
                defer { state.commandsOpen = false }
                return state.commandsOpen
            }
            if wasOpen { _ = Glibc.close(commands) }
        }
    }

    // MARK: - Reading

    private func readUntilClosed() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            var start = buffer.startIndex
            while let end = buffer[start...].firstIndex(of: 0) {
                receive(buffer[start..<end])
                start = end + 1
            }
            buffer.removeSubrange(..<start)
        }
        _ = Glibc.close(replies)
        closeAll(with: .browserExited(log: browserLog()))
    }

    private func receive(_ bytes: ArraySlice<UInt8>) {
        guard let message = try? JSONValue(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        if let id = message["id"]?.int64Value {
            let pending = state.withLock { $0.replies.removeValue(forKey: Int(id)) }
            guard let pending else { return }
            if let error = message["error"] {
                let text = error["message"]?.stringValue ?? error.jsonString()
                pending.continuation.resume(
                    throwing: BrowserError.protocolError(method: pending.method, message: text))
            } else {
                pending.continuation.resume(returning: message["result"] ?? .null)
            }
        } else if let method = message["method"]?.stringValue {
            let woken: [(CheckedContinuation<Event, any Error>, Event)] = state.withLock { state in
                state.lastSequence += 1
                let event = Event(
                    sequence: state.lastSequence, method: method,
                    sessionID: message["sessionId"]?.stringValue,
                    params: message["params"] ?? .null)
                state.events.append(event)
                if state.events.count > Self.keptEvents {
                    state.events.removeFirst(state.events.count - Self.keptEvents)
                }
                let matching = state.eventWaiters.filter { _, waiter in
                    waiter.method == method
                        && (waiter.sessionID == nil || waiter.sessionID == event.sessionID)
                        && event.sequence > waiter.after
                }
                for id in matching.keys { state.eventWaiters[id] = nil }
                return matching.values.map { ($0.continuation, event) }
            }
            for (continuation, event) in woken { continuation.resume(returning: event) }
        }
    }

    // MARK: - Failing waits

    private func failReply(_ id: Int, with error: BrowserError) {
        state.withLock { $0.replies.removeValue(forKey: id) }?.continuation.resume(throwing: error)
    }

    private func failWaiter(_ id: Int, with error: BrowserError) {
        state.withLock { $0.eventWaiters.removeValue(forKey: id) }?.continuation.resume(throwing: error)
    }

    private func closeAll(with error: BrowserError) {
        let (replies, waiters) = state.withLock { state in
            state.closed = error
            defer {
                state.replies = [:]
                state.eventWaiters = [:]
            }
            return (Array(state.replies.values), Array(state.eventWaiters.values))
        }
        for reply in replies { reply.continuation.resume(throwing: error) }
        for waiter in waiters { waiter.continuation.resume(throwing: error) }
    }

    /// Writes every byte; false when the browser is gone (EPIPE; SIGPIPE is ignored by the launcher).
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        guard state.withLock({ $0.commandsOpen }) else { return false }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { raw in
                write(commands, raw.baseAddress, raw.count)
            }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}

extension Duration {
    /// Seconds as Dispatch wants them.
    var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
