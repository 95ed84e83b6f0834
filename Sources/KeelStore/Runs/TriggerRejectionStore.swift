public import Foundation
public import KeelCore
public import PGClient

/// Records triggers that did not become runs, with the messages that report them, in one transaction.
public struct TriggerRejectionStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Where a rejected message came from.
    public struct Origin: Sendable, Hashable {
        public var messageID: String?
        public var routingKey: String
        public var correlationID: String?
        public var replyTo: String?
        public var bodyBytes: Int

        public init(
            messageID: String?, routingKey: String, correlationID: String?, replyTo: String?, bodyBytes: Int
        ) {
            self.messageID = messageID
            self.routingKey = routingKey
            self.correlationID = correlationID
            self.replyTo = replyTo
            self.bodyBytes = bodyBytes
        }
    }

    /// Records the rejection and enqueues `messages` (dead letter, reply); returns false, writing
    /// nothing, when this message id was already recorded (a redelivery). What a refused message
    /// carried that PostgreSQL cannot store (U+0000) is recorded with U+FFFD instead.
    @discardableResult
    public func record(
        _ rejection: TriggerRejection, flow: String?, origin: Origin, messages: [OutboxMessage]
    ) async throws -> Bool {
        let errors = try JSONEncoder().encode(rejection.errors)
        return try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO trigger_rejections (message_id, routing_key, flow, reason, field, message, errors,
                                                correlation_id, reply_to, body_bytes)
                VALUES (\(origin.messageID?.storable), \(origin.routingKey.storable), \(flow),
                        \(rejection.reason.rawValue), \(rejection.field), \(rejection.message),
                        \(PGJSON(bytes: Array(errors))), \(origin.correlationID?.storable),
                        \(origin.replyTo?.storable), \(origin.bodyBytes))
                ON CONFLICT (message_id) DO NOTHING
                RETURNING id
                """)
            guard !rows.isEmpty else { return false }
            try await OutboxStore.enqueue(messages, on: connection)
            return true
        }
    }
}

extension TriggerRejectionStore {
    /// A refused trigger as recorded, without the body (which stays in the dead-letter queue).
    public struct Rejected: Sendable, Hashable, Codable {
        public var id: Int64
        public var messageID: String?
        public var routingKey: String
        public var flow: String?
        public var reason: String
        public var field: String?
        public var message: String
        public var correlationID: String?
        public var bodyBytes: Int
        public var receivedAt: Date
    }

    static let rejectedColumns = """
        SELECT id, message_id, routing_key, flow, reason, field, message, correlation_id, body_bytes, received_at
        FROM trigger_rejections
        """

    /// The rejection recorded for this message id, if any.
    public func find(messageID: String) async throws -> Rejected? {
        try await pool.withConnection { connection in
            try await connection.query(
                "\(unescaped: Self.rejectedColumns) WHERE message_id = \(messageID)"
            ).first.map(Self.rejected)
        }
    }

    /// Refused triggers, newest first, older than `before` when given.
    public func recent(limit: Int, before: Int64? = nil) async throws -> [Rejected] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                \(unescaped: Self.rejectedColumns)
                WHERE (\(before)::int8 IS NULL OR id < \(before)) ORDER BY id DESC LIMIT \(limit)
                """
            ).map(Self.rejected)
        }
    }

    static func rejected(_ row: PGRow) throws -> Rejected {
        let (id, messageID, routingKey, flow, reason, field, message, correlationID, bodyBytes, receivedAt) =
            try row.decode(
                (Int64, String?, String, String?, String, String?, String, String?, Int, Date).self)
        return Rejected(
            id: id, messageID: messageID, routingKey: routingKey, flow: flow, reason: reason, field: field,
            message: message, correlationID: correlationID, bodyBytes: bodyBytes, receivedAt: receivedAt)
    }
}
