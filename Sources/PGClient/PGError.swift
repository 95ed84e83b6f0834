/// Every failure of the PostgreSQL client: a connection that cannot be made or was lost, an error the
/// server reported, a cancelled or timed-out operation, or a value that cannot be decoded.
///
/// `description` names the code, SQLSTATE, server message and SQL text only. It never contains bound
/// parameter values or passwords, and leaves out the server's `detail`, which often quotes row values
/// (e.g. `Key (email)=(...) already exists`); read `detail` directly when you need it.
public struct PGError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is; stable across releases, so callers can switch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Sendable {
            case invalidConfiguration, connectionFailed, connectionClosed, server, cancelled, timeout
            case decoding, poolClosed, protocolViolation
        }
        let base: Base

        /// The configuration (URL) is malformed.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// A connection could not be established (server down, authentication failed, ...).
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The connection was lost or closed; the operation may or may not have been applied.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The server reported an error; see `sqlState`.
        public static let server = Code(base: .server)
        /// The calling Task was cancelled; a running statement was cancelled on the server.
        public static let cancelled = Code(base: .cancelled)
        /// A deadline passed, e.g. the connect timeout.
        public static let timeout = Code(base: .timeout)
        /// A column could not be decoded as the requested Swift type.
        public static let decoding = Code(base: .decoding)
        /// The pool was closed before or while waiting for a connection.
        public static let poolClosed = Code(base: .poolClosed)
        /// The server or libpq answered something this client does not expect.
        public static let protocolViolation = Code(base: .protocolViolation)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE for server errors, e.g. `23505` or `40001`.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The SQL text of the failing query (placeholders, never bound values).
    public var query: String?

    public init(
        code: Code, sqlState: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil,
        query: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.query = query
    }

    /// True for failures that a retry of the whole transaction can resolve: serialization failure
    /// (40001) and deadlock (40P01).
    public var isTransactionConflict: Bool {
        sqlState == "40001" || sqlState == "40P01"
    }

    /// True for failures that no retry can resolve: the server refused the statement for the data it
    /// carries or what it says (SQLSTATE classes 22 data exception, 23 integrity constraint violation,
    /// 42 syntax error or access rule violation), or a column could not be decoded. Everything else
    /// (a lost connection, a conflict, 53xxx resources, 57Pxx shutdown) may pass later.
    public var isPermanent: Bool {
        if code == .decoding { return true }
        guard code == .server, let sqlState else { return false }
        return sqlState.hasPrefix("22") || sqlState.hasPrefix("23") || sqlState.hasPrefix("42")
    }

    /// What went wrong without the server's message (which may quote a value, e.g. `invalid input
    /// syntax for type uuid: "..."`): safe for a dead letter's reason or an answer to a stranger.
    public var dataFreeDescription: String {
        var text = "PGError(\(code)"
        if let sqlState { text += ", SQLSTATE \(sqlState)" }
        return text + ")"
    }

    public var description: String {
        var text = "PGError(\(code)"
        if let sqlState { text += ", \(sqlState)" }
        text += "): \(message)"
        if let query { text += " [query: \(query)]" }
        return text
    }

    /// `description` plus the server's detail and hint, which may quote data values: for debugging only.
    public var debugDescription: String {
        var text = description
        if let detail { text += " [detail: \(detail)]" }
        if let hint { text += " [hint: \(hint)]" }
        return text
    }
}

extension PGError {
    static func decoding(_ message: String) -> PGError {
        PGError(code: .decoding, message: message)
    }

    static func cancelled(query: String? = nil) -> PGError {
        PGError(code: .cancelled, message: "the operation was cancelled", query: query)
    }
}
