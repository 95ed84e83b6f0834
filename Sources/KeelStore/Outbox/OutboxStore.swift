public import Foundation
import KeelCore
public import PGClient

/// The transactional outbox: messages written with the state change that caused them, published by
/// the relay with confirms and marked sent only after the broker's ack (DESIGN invariant 3).
public struct OutboxStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Writes messages inside the caller's transaction; they leave only if it commits.
    ///
    /// Text PostgreSQL cannot store (U+0000, which a refused message may carry into its dead letter's
    /// headers, correlation id or reply queue) is kept with U+FFFD instead: the record of a message
    /// matters more than its exact bytes, and the body (bytea) is kept as it came.
    public static func enqueue(_ messages: [OutboxMessage], on connection: PGConnection) async throws {
        for message in messages {
            var headers: [String: String] = [:]
            for (key, value) in message.headers { headers[key.storable] = value.storable }
            if let replyTo = message.replyTo { headers[Self.replyToHeader] = replyTo.storable }
            let headersJSON = try JSONEncoder().encode(headers)
            try await connection.execute(
                """
                INSERT INTO outbox (exchange, routing_key, message_id, correlation_id, headers, body)
                VALUES (\(message.exchange.storable), \(message.routingKey.storable), \(message.messageID),
                        \(message.correlationID?.storable), \(PGJSON(bytes: Array(headersJSON))), \(message.body))
                """)
        }
    }

    /// Claims up to `limit` due messages, oldest first, and runs `publish` on them while holding their
    /// rows (`FOR UPDATE SKIP LOCKED`, so relay replicas never publish the same row at once). The body
    /// reports each message's fate; sent rows are then deleted, the others pushed back with the error.
    ///
    /// A crash after publishing but before commit republishes the same `message_id` later: delivery is
    /// at least once, and consumers deduplicate.
    @discardableResult
    public func relayBatch(
        limit: Int, publish: ([PendingOutboxMessage]) async -> [Int64: OutboxPublishOutcome]
    ) async throws -> OutboxBatchResult {
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, exchange, routing_key, message_id, correlation_id, headers, body, attempts, created_at
                FROM outbox WHERE sent_at IS NULL AND available_at <= now()
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """)
            let pending = try rows.map(Self.pending)
            guard !pending.isEmpty else { return OutboxBatchResult() }
            let outcomes = await publish(pending)
            var result = OutboxBatchResult()
            var sent: [Int64] = []
            for message in pending {
                switch outcomes[message.id] ?? .failed("no outcome reported") {
                case .sent:
                    sent.append(message.id)
                case .failed(let reason):
                    let delay = Self.retryDelay(afterAttempts: message.attempts + 1)
                    try await connection.execute(
                        """
                        UPDATE outbox SET attempts = attempts + 1, last_error = \(reason),
                               available_at = now() + make_interval(secs => \(delay))
                        WHERE id = \(message.id)
                        """)
                    result.failed += 1
                }
            }
            if !sent.isEmpty {
                // Sent rows go: kept, they grew the table and its pending index without bound, and every
                // relay pass scanned past them.
                try await connection.execute("DELETE FROM outbox WHERE id = ANY(\(sent))")
            }
            result.sent = sent.count
            result.oldestCreatedAt = pending.map(\.createdAt).min()
            return result
        }
    }

    /// Messages not yet published (due or pushed back), counted on the outbox's partial index.
    public func backlog() async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL").first?
                .decode((Int).self) ?? 0
        }
    }

    /// 1 s, 2 s, 4 s ... capped at 60 s: a refused message is retried, never dropped.
    static func retryDelay(afterAttempts attempts: Int) -> Double {
        min(60, pow(2, Double(min(attempts, 7) - 1)))
    }

    /// `reply_to` travels in the stored headers under this name and becomes the AMQP property again.
    public static let replyToHeader = "x-keel-reply-to"

    static func pending(_ row: PGRow) throws -> PendingOutboxMessage {
        let (id, exchange, routingKey, messageID, correlationID, storedHeaders, body, attempts, createdAt) =
            try row.decode((Int64, String, String, UUID, String?, PGJSON, [UInt8], Int, Date).self)
        var headers = try storedHeaders.decode([String: String].self)
        let replyTo = headers.removeValue(forKey: replyToHeader)
        return PendingOutboxMessage(
            id: id,
            message: OutboxMessage(
                exchange: exchange, routingKey: routingKey, messageID: messageID,
                correlationID: correlationID,
                replyTo: replyTo, headers: headers, body: body),
            attempts: attempts, createdAt: createdAt)
    }
}

/// What happened to one message the relay tried to publish.
public enum OutboxPublishOutcome: Sendable, Hashable {
    /// The broker confirmed it.
    case sent
    /// Refused, unroutable, or unconfirmed; kept and retried later.
    case failed(String)
}

/// One relay pass.
public struct OutboxBatchResult: Sendable, Hashable {
    public var sent = 0
    public var failed = 0
    public var oldestCreatedAt: Date?

    public init() {}
    public var isEmpty: Bool { sent == 0 && failed == 0 }
}
