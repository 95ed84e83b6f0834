import CLibPQ
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns one libpq connection and makes the blocking calls on it.
///
/// Not thread-safe, like the `PGconn` it wraps: `PGConnection` confines it to its serial queue and
/// `PGListener` to its thread. Only `canceller` may be used from elsewhere.
final class PGHandle: @unchecked Sendable {
    enum TransactionState: UInt8, Sendable {
        case idle, inTransaction, failedTransaction, busy, broken
    }

    private var connection: OpaquePointer?
    let canceller: PGCanceller
    private let notices: PGNoticeSink
    /// How long a statement may go without a reply from the server before the connection is given up
    /// (nil: no limit). Guards against a peer that went silent without closing the socket.
    var replyTimeout: Duration?
    /// What `replyTimeout` adds to the session's statement timeout.
    let replyGrace: Duration
    /// Statements prepared on this connection, by text and parameter types: parsed and planned once
    /// per connection instead of on every execution.
    private var prepared: [PreparedKey: String] = [:]
    /// Names are never reused, even for a statement dropped from `prepared`.
    private var preparedCount = 0

    /// Most statements prepared per connection; past it a new statement runs unprepared. Keel's
    /// statements are a fixed set (values are always bound), so this is only a guard.
    static let maximumPrepared = 512

    private struct PreparedKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    private init(connection: OpaquePointer, configuration: PGConfiguration, logger: Logger) {
        self.connection = connection
        self.canceller = PGCanceller(connection: connection)
        self.notices = PGNoticeSink(logger: logger)
        self.replyTimeout = configuration.replyTimeout
        self.replyGrace = configuration.replyGrace
        PQsetNoticeReceiver(connection, pgNoticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        // Sending must not block past the reply deadline either: `awaitResults` flushes with it.
        PQsetnonblocking(connection, 1)
    }

    deinit {
        close()
    }

    /// Connects without blocking past `configuration.connectTimeout`, checking `isCancelled` every
    /// 100 ms so a cancelled Task does not wait for the whole timeout.
    static func connect(
        _ configuration: PGConfiguration, logger: Logger, isCancelled: () -> Bool
    ) throws -> PGHandle {
        let connection = try startConnecting(configuration.connectionParameters)
        do {
            try finishConnecting(
                connection, deadline: .now + configuration.connectTimeout, isCancelled: isCancelled)
        } catch {
            PQfinish(connection)
            throw error
        }
        return PGHandle(connection: connection, configuration: configuration, logger: logger)
    }

    private static func startConnecting(_ parameters: [(String, String)]) throws -> OpaquePointer {
        let keywords = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let constKeywords = keywords.map { $0.map { UnsafePointer($0) } }
        let constValues = values.map { $0.map { UnsafePointer($0) } }
        guard let connection = PQconnectStartParams(constKeywords, constValues, 0) else {
            throw PGError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        if PQstatus(connection) == CONNECTION_BAD {
            let message = errorMessage(connection)
            PQfinish(connection)
            throw PGError(code: .connectionFailed, message: message)
        }
        return connection
    }

    private static func finishConnecting(
        _ connection: OpaquePointer, deadline: ContinuousClock.Instant, isCancelled: () -> Bool
    ) throws {
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_FAILED:
                throw PGError(code: .connectionFailed, message: errorMessage(connection))
            default:
                if isCancelled() { throw PGError.cancelled() }
                let remaining = deadline - .now
                guard remaining > .zero else {
                    throw PGError(code: .timeout, message: "connecting timed out")
                }
                let events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT
                let slice = min(remaining, .milliseconds(100))
                let ready = waitForSocket(
                    PQsocket(connection), events: Int16(events), milliseconds: slice.milliseconds)
                if ready { status = PQconnectPoll(connection) }
            }
        }
    }

    /// Runs one statement with binary parameters and binary results, prepared on first use.
    func execute(_ query: PGQuery) throws -> PGResult {
        let connection = try requireConnection(query: query.sql)
        let key = PreparedKey(sql: query.sql, types: query.binds.types)
        var name = prepared[key]
        if name == nil, prepared.count < Self.maximumPrepared {
            preparedCount += 1
            let candidate = "keel_\(preparedCount)"
            let sent = PQsendPrepare(connection, candidate, query.sql, Int32(key.types.count), key.types) == 1
            let last = try awaitResults(sent: sent, connection: connection, query: query.sql)
            // A statement that does not prepare (a syntax error, an aborted transaction) fails with that.
            _ = try consume(last, connection: connection, query: query.sql)
            prepared[key] = candidate
            name = candidate
        }
        do {
            return try execute(query, prepared: name, on: connection)
        } catch let error as PGError where name != nil && error.sqlState == "0A000" {
            // "cached plan must not change result type": a table changed under the prepared statement.
            // This execution fails (a retry may be inside a now-aborted transaction); the next one
            // prepares the statement afresh.
            prepared[key] = nil
            throw error
        }
    }

    private func execute(_ query: PGQuery, prepared name: String?, on connection: OpaquePointer) throws
        -> PGResult
    {
        let binds = query.binds
        let count = binds.count
        let emptyValue: [CChar] = [0]
        let result = binds.bytes.withUnsafeBufferPointer { bytes in
            emptyValue.withUnsafeBufferPointer { empty in
                var values = [UnsafePointer<CChar>?](repeating: nil, count: count)
                var offset = 0
                for index in 0..<count where binds.lengths[index] >= 0 {
                    if let base = bytes.baseAddress, binds.lengths[index] > 0 {
                        values[index] = UnsafeRawPointer(base + offset).assumingMemoryBound(to: CChar.self)
                    } else {
                        values[index] = empty.baseAddress
                    }
                    offset += Int(binds.lengths[index])
                }
                let formats = [Int32](repeating: 1, count: count)
                if let name {
                    return PQsendQueryPrepared(
                        connection, name, Int32(count), values, binds.lengths, formats, 1)
                }
                return PQsendQueryParams(
                    connection, query.sql, Int32(count), binds.types, values, binds.lengths, formats, 1)
            }
        }
        let last = try awaitResults(sent: result == 1, connection: connection, query: query.sql)
        return try consume(last, connection: connection, query: query.sql)
    }

    /// Runs SQL text that may hold several statements (the simple query protocol), e.g. a migration.
    func executeScript(_ sql: String) throws {
        let connection = try requireConnection(query: sql)
        let last = try awaitResults(
            sent: PQsendQuery(connection, sql) == 1, connection: connection, query: sql)
        _ = try consume(last, connection: connection, query: sql)
    }

    /// Flushes a sent query and collects its results as `PQexec` would (the last one, which is the
    /// error when a statement failed), but never waits longer than `replyTimeout` for the server to
    /// say something: past that the connection is closed and the statement fails with `.timeout`.
    private func awaitResults(sent: Bool, connection: OpaquePointer, query: String) throws
        -> OpaquePointer?
    {
        guard sent else { return nil }
        var deadline = replyTimeout.map { ContinuousClock.now + $0 }
        func waitFor(_ events: Int32) throws {
            let remaining = deadline.map { $0 - .now }
            if let remaining, remaining <= .zero { throw silent(query: query) }
            _ = Self.waitForSocket(
                PQsocket(connection), events: Int16(events), milliseconds: remaining?.milliseconds ?? -1)
        }
        // Nonblocking mode: PQflush returns 1 while data is left to send.
        while true {
            let flushed = PQflush(connection)
            if flushed == 0 { break }
            if flushed < 0 {
                throw connectionError(connection, message: Self.errorMessage(connection), query: query)
            }
            try waitFor(POLLOUT | POLLIN)
            if PQconsumeInput(connection) == 0 { return PQgetResult(connection) }
        }
        var last: OpaquePointer?
        while true {
            while PQisBusy(connection) != 0 {
                do {
                    try waitFor(POLLIN)
                } catch {
                    if let last { PQclear(last) }
                    throw error
                }
                // On failure libpq has dropped the socket, so PQgetResult reports the error at once.
                if PQconsumeInput(connection) == 0 { break }
            }
            guard let result = PQgetResult(connection) else { return last }
            if let last { PQclear(last) }
            last = result
            switch PQresultStatus(result) {
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH: return last
            default: break
            }
            if PQstatus(connection) == CONNECTION_BAD { return last }
            // Each statement of a script has its own timeout on the server, so each gets a fresh wait.
            deadline = replyTimeout.map { ContinuousClock.now + $0 }
        }
    }

    /// The failure for a server that stopped answering: the connection's state is unknown, so it is closed.
    private func silent(query: String) -> PGError {
        let waited = replyTimeout.map { " within \($0)" } ?? ""
        close()
        return PGError(
            code: .timeout,
            message: "the server did not answer\(waited); the connection was closed", query: query)
    }

    private func consume(_ result: OpaquePointer?, connection: OpaquePointer, query: String) throws
        -> PGResult
    {
        guard let result else {
            throw connectionError(connection, message: Self.errorMessage(connection), query: query)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK:
            return Self.materialize(result)
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGResult(
                rows: [], affectedRows: Self.affectedRows(result), columnNames: [],
                commandTag: String(cString: PQcmdStatus(result)))
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw serverError(result, connection: connection, query: query)
        default:
            throw PGError(
                code: .protocolViolation, message: "unsupported result (COPY is not supported)",
                query: query)
        }
    }

    private func serverError(_ result: OpaquePointer, connection: OpaquePointer, query: String)
        -> PGError
    {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else {
                return nil
            }
            return String(cString: value)
        }
        let message = field("M") ?? Self.trimmed(String(cString: PQresultErrorMessage(result)))
        let lost = PQstatus(connection) == CONNECTION_BAD
        return PGError(
            code: lost ? .connectionClosed : .server, sqlState: field("C"), message: message,
            detail: field("D"), hint: field("H"), query: query)
    }

    private func connectionError(_ connection: OpaquePointer, message: String, query: String?)
        -> PGError
    {
        let lost = PQstatus(connection) == CONNECTION_BAD
        return PGError(code: lost ? .connectionClosed : .server, message: message, query: query)
    }

    /// The SCRAM-SHA-256 verifier of `password` for role `user` (`PQencryptPasswordConn`), computed
    /// here: `ALTER ROLE ... PASSWORD` given the verifier never shows the server the password itself.
    func encryptedPassword(_ password: String, user: String) throws -> String {
        let connection = try requireConnection(query: nil)
        guard let encrypted = PQencryptPasswordConn(connection, password, user, "scram-sha-256") else {
            throw PGError(code: .server, message: Self.errorMessage(connection), query: nil)
        }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    private func requireConnection(query: String?) throws -> OpaquePointer {
        guard let connection else {
            throw PGError(code: .connectionClosed, message: "the connection is closed", query: query)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            throw PGError(code: .connectionClosed, message: Self.errorMessage(connection), query: query)
        }
        return connection
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Copies a result's values into one Swift buffer so rows outlive the C result.
    private static func materialize(_ result: OpaquePointer) -> PGResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { PGType(oid: PQftype(result, Int32($0))) }
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        offsets.reserveCapacity(rowCount * columnCount)
        lengths.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                offsets.append(bytes.count)
                if PQgetisnull(result, row, column) != 0 {
                    lengths.append(-1)
                    continue
                }
                let length = PQgetlength(result, row, column)
                lengths.append(length)
                if length > 0, let value = PQgetvalue(result, row, column) {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: value, count: Int(length)))
                }
            }
        }
        let storage = PGResultStorage(
            columnNames: names, columnTypes: types, bytes: bytes, offsets: offsets, lengths: lengths)
        return PGResult(
            rows: (0..<rowCount).map { PGRow(storage: storage, index: $0) },
            affectedRows: affectedRows(result), columnNames: names,
            commandTag: String(cString: PQcmdStatus(result)))
    }

    var transactionState: TransactionState {
        guard let connection, PQstatus(connection) == CONNECTION_OK else { return .broken }
        switch PQtransactionStatus(connection) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failedTransaction
        case PQTRANS_ACTIVE: return .busy
        default: return .broken
        }
    }

    /// Whether an idle connection is still usable: reads whatever the server sent meanwhile, which
    /// after a server shutdown is a termination message and end-of-file.
    func isAlive() -> Bool {
        guard let connection, PQstatus(connection) == CONNECTION_OK else { return false }
        for _ in 0..<4 {
            guard Self.waitForSocket(PQsocket(connection), events: Int16(POLLIN), milliseconds: 0) else {
                break
            }
            if PQconsumeInput(connection) == 0 { return false }
            while let notification = PQnotifies(connection) { PQfreemem(notification) }
        }
        return PQstatus(connection) == CONNECTION_OK
    }

    /// Waits up to `milliseconds` for notifications; throws `.connectionClosed` when the connection is lost.
    func waitForNotifications(milliseconds: Int32) throws -> [PGNotification] {
        let connection = try requireConnection(query: nil)
        if Self.waitForSocket(PQsocket(connection), events: Int16(POLLIN), milliseconds: milliseconds) {
            if PQconsumeInput(connection) == 0 {
                throw PGError(code: .connectionClosed, message: Self.errorMessage(connection))
            }
        }
        var notifications: [PGNotification] = []
        while let notification = PQnotifies(connection) {
            notifications.append(
                PGNotification(
                    channel: String(cString: notification.pointee.relname),
                    payload: String(cString: notification.pointee.extra),
                    pid: Int(notification.pointee.be_pid)))
            PQfreemem(notification)
        }
        _ = try requireConnection(query: nil)
        return notifications
    }

    func close() {
        guard let connection else { return }
        self.connection = nil
        PQfinish(connection)
    }

    /// Waits until the socket is ready for `events`; false on timeout, error or a closed socket.
    private static func waitForSocket(_ socket: Int32, events: Int16, milliseconds: Int32) -> Bool {
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown libpq error" }
        return trimmed(String(cString: message))
    }

    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}

extension Duration {
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(total, 0))
    }
}
