public import Logging
import Tracing
import Synchronization

/// A bounded set of connections shared by a service: at most `size` connections exist at once;
/// callers beyond that wait in FIFO order, each for at most `configuration.poolTimeout`.
///
/// A connection found broken (e.g. after a server restart) is discarded and replaced on the next use,
/// so callers recover without doing anything. A connection is never handed on mid-transaction: it is
/// rolled back, or discarded if that fails.
public final class PGPool: Sendable {
    public let configuration: PGConfiguration
    public let size: Int
    let logger: Logger
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var idle: [PGConnection] = []
        /// Connections that exist or are being opened, idle or in use.
        var open = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Lease, any Error>)] = []
        var nextID = 0
        var listeners: [Int: PGListener] = [:]
        var closed = false
    }

    /// What a caller waiting for a connection receives.
    private enum Lease: Sendable {
        case connection(PGConnection)
        /// A slot is free: open a new connection.
        case newConnection
    }

    public init(configuration: PGConfiguration, size: Int, logger: Logger) {
        precondition(size > 0, "a PGPool needs at least one connection")
        self.configuration = configuration
        self.size = size
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Lends a connection to `body` and takes it back afterwards, whether `body` returns or throws.
    ///
    /// `body` runs on the connection's own thread (as its task executor preference), so its statements
    /// reach libpq without a thread hop each; work it awaits elsewhere hops as usual.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: (PGConnection) async throws -> T) async throws
        -> T
    {
        let (leased, reused) = try await acquire()
        return try await withTaskExecutorPreference(leased.executor) {
            guard reused, !(await leased.isAlive()) else {
                return try await lend(leased, to: body)
            }
            logger.info("postgres connection lost while idle; replacing it")
            await leased.close()
            let replacement = try await connect()
            return try await withTaskExecutorPreference(replacement.executor) {
                try await lend(replacement, to: body)
            }
        }
    }

    private func lend<T: Sendable>(
        _ connection: PGConnection, to body: (PGConnection) async throws -> T
    ) async throws -> T {
        let result: T
        do {
            result = try await body(connection)
        } catch {
            await release(connection)
            throw error
        }
        await release(connection)
        return result
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws. On a serialization
    /// failure (40001) or deadlock (40P01) the whole body runs again, up to `maxAttempts` times in all,
    /// after a short jittered pause; then the error is rethrown. `body` must therefore be safe to repeat.
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: PGIsolationLevel = .readCommitted, maxAttempts: Int = 3,
        _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        // A span per transaction (retries included) in the trace of the work it is part of; a poll that
        // belongs to no trace (the outbox relay's, the timer sweeper's) starts none.
        guard ServiceContext.current != nil else {
            return try await transaction(isolation: isolation, maxAttempts: maxAttempts, body)
        }
        return try await withSpan("db.transaction", ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            return try await transaction(isolation: isolation, maxAttempts: maxAttempts, body)
        }
    }

    private func transaction<T: Sendable>(
        isolation: PGIsolationLevel, maxAttempts: Int, _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            var attempt = 1
            while true {
                do {
                    try await connection.execute("BEGIN ISOLATION LEVEL \(unescaped: isolation.rawValue)")
                    let result = try await body(connection)
                    let commit = try await connection.execute("COMMIT")
                    guard commit.commandTag == "COMMIT" else {
                        throw PGError(
                            code: .server, sqlState: "25P02",
                            message: "the transaction was rolled back because a statement in it failed",
                            query: "COMMIT")
                    }
                    return result
                } catch {
                    _ = await connection.resetForReuse()
                    guard let conflict = error as? PGError, conflict.isTransactionConflict,
                        attempt < maxAttempts
                    else { throw error }
                    logger.debug(
                        "postgres transaction conflict; retrying",
                        metadata: ["sqlstate": "\(conflict.sqlState ?? "")", "attempt": "\(attempt)"])
                    do {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 5...25) * attempt))
                    } catch {
                        throw PGError.cancelled()
                    }
                    attempt += 1
                }
            }
        }
    }

    /// Starts listening on `channel` (used verbatim, case-sensitive, as `pg_notify` takes it) on a
    /// dedicated connection outside the pool's `size`. LISTEN is active when this returns.
    public func listen(_ channel: String) async throws -> PGNotifications {
        let id: Int = try state.withLock { state in
            guard !state.closed else { throw Self.closedError }
            state.nextID += 1
            return state.nextID
        }
        let (listener, notifications) = PGListener.make(
            configuration: configuration, channel: channel, logger: logger,
            onStop: { [weak self] in self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) } })
        let registered = state.withLock { state in
            guard !state.closed else { return false }
            state.listeners[id] = listener
            return true
        }
        guard registered else {
            listener.stop()
            throw Self.closedError
        }
        try await listener.start()
        return notifications
    }

    /// Closes idle connections and listen streams and fails waiting callers with `.poolClosed`;
    /// connections in use are closed when they are given back. Returns once the threads of the closed
    /// connections and listeners have ended (their `PQfinish` done), so a process can exit safely after.
    public func close() async {
        let (idle, waiters, listeners) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.idle = []
            state.open -= idle.count
            let waiters = state.waiters
            state.waiters = []
            let listeners = Array(state.listeners.values)
            state.listeners = [:]
            return (idle, waiters, listeners)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for listener in listeners { listener.stop() }
        for connection in idle { await connection.close() }
        for listener in listeners { await listener.join() }
    }

    /// A snapshot of the pool's connections and waiting callers, for metrics and health checks.
    public var statistics: PGPoolStatistics {
        state.withLock { state in
            PGPoolStatistics(open: state.open, idle: state.idle.count, waiting: state.waiters.count)
        }
    }

    private static let closedError = PGError(
        code: .poolClosed, message: "the connection pool is closed")

    /// A connection for the caller: an idle one (`reused`, to be checked before use) or a new one.
    private func acquire() async throws -> (connection: PGConnection, reused: Bool) {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        // Only a caller that has to queue gets a timer; it is cancelled once the caller is served.
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        let lease = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, PGError>? = state.withLock { state in
                    if state.closed { return .failure(Self.closedError) }
                    if Task.isCancelled { return .failure(PGError.cancelled()) }
                    if let connection = state.idle.popLast() { return .success(.connection(connection)) }
                    if state.open < size {
                        state.open += 1
                        return .success(.newConnection)
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                } else {
                    let timeout = configuration.poolTimeout
                    timer.withLock { timer in
                        timer = Task { [weak self] in
                            guard (try? await Task.sleep(for: timeout)) != nil else { return }
                            self?.giveUp(waiter: id, error: self?.waitTimedOut)
                        }
                    }
                }
            }
        } onCancel: {
            giveUp(waiter: id, error: PGError.cancelled())
        }
        switch lease {
        case .connection(let connection):
            return (connection, true)
        case .newConnection:
            return (try await connect(), false)
        }
    }

    /// Fails a caller still waiting for a connection (cancelled, or waited too long).
    private func giveUp(waiter id: Int, error: PGError?) {
        let waiter = state.withLock { state in
            state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
        }
        waiter?.continuation.resume(throwing: error ?? Self.closedError)
    }

    /// The failure of a caller that waited `poolTimeout` without getting a connection.
    private var waitTimedOut: PGError {
        PGError(
            code: .timeout,
            message:
                "no database connection became free within \(configuration.poolTimeout): all \(size) of the pool's connections stayed in use"
        )
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot up if that fails.
    private func connect() async throws -> PGConnection {
        do {
            return try await PGConnection.connect(configuration, logger: logger)
        } catch {
            releaseSlot()
            throw error
        }
    }

    private func release(_ connection: PGConnection) async {
        // The common case, a clean idle connection, needs no trip to the connection's thread.
        let reusable =
            connection.lastTransactionState == .idle ? true : await connection.resetForReuse()
        if !reusable {
            logger.debug("postgres connection discarded")
            await connection.close()
        }
        let (waiter, closeNow) = state.withLock {
            state -> (CheckedContinuation<Lease, any Error>?, Bool) in
            if state.closed {
                state.open -= 1
                return (nil, reusable)
            }
            if !state.waiters.isEmpty {
                return (state.waiters.removeFirst().continuation, false)
            }
            if reusable {
                state.idle.append(connection)
            } else {
                state.open -= 1
            }
            return (nil, false)
        }
        waiter?.resume(returning: reusable ? .connection(connection) : .newConnection)
        if closeNow { await connection.close() }
    }

    /// Gives up a slot whose connection could not be opened: to the next waiter, or back to the pool.
    private func releaseSlot() {
        let waiter = state.withLock { state -> CheckedContinuation<Lease, any Error>? in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.open -= 1
            return nil
        }
        waiter?.resume(returning: .newConnection)
    }
}
