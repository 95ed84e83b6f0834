public import Logging
import Synchronization

/// One PostgreSQL connection. Its blocking libpq calls run on the connection's own thread, never on
/// Swift's cooperative pool; statements from concurrent callers run one after another. Code running
/// on that thread (a `PGPool.withConnection` body) calls libpq directly, without a thread hop.
///
/// Cancelling the Task awaiting a statement sends a cancel request to the server and the statement
/// fails with `PGError(.cancelled)`. Most code borrows connections from a `PGPool` instead.
public final class PGConnection: Sendable {
    private let handle: PGHandle
    private let thread: PGConnectionThread
    let logger: Logger
    /// The handle's transaction state after the last operation, written on its thread when each
    /// operation ends, so the pool can take back a clean connection without another trip to the thread.
    private let lastState = Atomic<UInt8>(PGHandle.TransactionState.idle.rawValue)

    private init(handle: PGHandle, thread: PGConnectionThread, logger: Logger) {
        self.handle = handle
        self.thread = thread
        self.logger = logger
    }

    deinit {
        let handle = handle
        thread.async { handle.close() }
        thread.stop()
    }

    /// The connection's thread as a task executor: code that prefers it runs statements without hops.
    var executor: any TaskExecutor { thread }

    /// Connects, failing with `.timeout` after `configuration.connectTimeout` and `.cancelled` when
    /// the Task is cancelled.
    public static func connect(_ configuration: PGConfiguration, logger: Logger) async throws
        -> PGConnection
    {
        let thread = PGConnectionThread(name: "keel.pg.connection")
        do {
            let handle = try await run(on: thread, canceller: nil, query: nil) { operation in
                try PGHandle.connect(configuration, logger: logger, isCancelled: { operation.isCancelled })
            }
            logger.debug("postgres connected", metadata: ["postgres": "\(configuration)"])
            return PGConnection(handle: handle, thread: thread, logger: logger)
        } catch {
            thread.stop()
            throw error
        }
    }

    /// Runs one statement (parameters bound, never spliced) and returns its rows and affected-row count.
    @discardableResult
    public func execute(_ query: PGQuery) async throws -> PGResult {
        logger.trace("postgres query", metadata: ["sql": "\(query.sql)"])
        return try await run(query: query.sql) { handle in try handle.execute(query) }
    }

    /// Runs one statement and returns its rows.
    public func query(_ query: PGQuery) async throws -> [PGRow] {
        try await execute(query).rows
    }

    /// Runs trusted SQL text holding any number of statements and no parameters, e.g. a migration.
    public func executeScript(_ sql: String) async throws {
        logger.trace("postgres script", metadata: ["sql": "\(sql)"])
        try await run(query: sql) { handle in try handle.executeScript(sql) }
    }

    /// The SCRAM-SHA-256 verifier of `password` for role `user`, computed on the client, for
    /// `CREATE ROLE ... PASSWORD` without the password itself ever reaching the server.
    public func encryptedPassword(_ password: String, user: String) async throws -> String {
        try await run(query: nil) { handle in try handle.encryptedPassword(password, user: user) }
    }

    /// Sets this session's `statement_timeout` and `lock_timeout` (nil: none), e.g. for a migration that
    /// may run long, and moves the client's reply limit with the statement timeout (none when nil).
    /// Like any `SET`, this stays with the connection, also when it goes back to a pool: restore it.
    public func setTimeouts(statement: Duration?, lock: Duration?) async throws {
        let settings = PGConfiguration(
            user: "", database: "", statementTimeout: statement, lockTimeout: lock)
        try await run(query: nil) { handle in
            _ = try handle.execute(
                """
                SELECT set_config('statement_timeout', \(settings.statementTimeoutSetting), false),
                       set_config('lock_timeout', \(settings.lockTimeoutSetting), false)
                """)
            handle.replyTimeout = statement.map { $0 + handle.replyGrace }
        }
    }

    /// Closes the connection and waits for its thread to end; later statements fail with
    /// `.connectionClosed`.
    public func close() async {
        await runToCompletion { handle in handle.close() }
        thread.stop()
        await thread.join()
        logger.debug("postgres connection closed")
    }

    /// The transaction state after the last operation (`.broken` once the connection is lost or closed).
    var lastTransactionState: PGHandle.TransactionState {
        PGHandle.TransactionState(rawValue: lastState.load(ordering: .acquiring)) ?? .broken
    }

    /// Whether an idle connection still works; false after the server closed it (e.g. it restarted).
    func isAlive() async -> Bool {
        await runToCompletion { handle in handle.isAlive() }
    }

    /// Ends a transaction left open (by a throwing body, say) so the next user starts clean;
    /// returns false when the connection is unusable and must be discarded. Runs even in a cancelled Task.
    func resetForReuse() async -> Bool {
        await runToCompletion { handle in
            switch handle.transactionState {
            case .idle:
                return true
            case .inTransaction, .failedTransaction:
                do {
                    try handle.executeScript("ROLLBACK")
                    return handle.transactionState == .idle
                } catch {
                    return false
                }
            case .busy, .broken:
                return false
            }
        }
    }

    /// Called on the connection's thread after every operation.
    private func recordState() {
        lastState.store(handle.transactionState.rawValue, ordering: .releasing)
    }

    /// Runs `work` on the connection's thread with cancellation wired to `PQcancel`.
    private func run<T: Sendable>(
        query: String?, _ work: @escaping @Sendable (PGHandle) throws -> T
    ) async throws -> T {
        let handle = handle
        return try await Self.run(on: thread, canceller: handle.canceller, query: query) { _ in
            defer { self.recordState() }
            return try work(handle)
        }
    }

    /// Runs `work` on the connection's thread whether or not the Task is cancelled (cleanup must not be skipped).
    private func runToCompletion<T: Sendable>(_ work: @escaping @Sendable (PGHandle) -> T) async -> T {
        let handle = handle
        if thread.isCurrent {
            defer { recordState() }
            return work(handle)
        }
        return await withCheckedContinuation { continuation in
            thread.async {
                let result = work(handle)
                self.recordState()
                continuation.resume(returning: result)
            }
        }
    }

    /// Runs `work` on `thread`: inline when already there, else handed over while the caller waits.
    private static func run<T: Sendable>(
        on thread: PGConnectionThread, canceller: PGCanceller?, query: String?,
        _ work: @escaping @Sendable (PGOperation) throws -> T
    ) async throws -> T {
        let operation = PGOperation(canceller: canceller)
        return try await withTaskCancellationHandler {
            if thread.isCurrent {
                return try perform(operation, query: query, work).get()
            }
            return try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<T, any Error>) in
                thread.async { continuation.resume(with: perform(operation, query: query, work)) }
            }
        } onCancel: {
            operation.cancel()
        }
    }

    /// Runs one operation on the connection's thread, reporting a statement the server cancelled at
    /// our request as `.cancelled`.
    private static func perform<T>(
        _ operation: PGOperation, query: String?, _ work: (PGOperation) throws -> T
    ) -> Result<T, any Error> {
        guard operation.start() else { return .failure(PGError.cancelled(query: query)) }
        let result = Result { try work(operation) }
        let cancelRequested = operation.finish()
        if cancelRequested, case .failure(let error as PGError) = result, error.sqlState == "57014" {
            return .failure(
                PGError(
                    code: .cancelled, sqlState: error.sqlState, message: error.message, query: error.query))
        }
        return result
    }
}
