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

/// A refused trigger as recorded, for people reading why it was refused (the console's dead letters).
/// The message body itself is not stored: it is in the broker's `keel.dead.keel.triggers` queue.
public struct TriggerRejectionRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var messageID: String?
    public var routingKey: String
    /// The flow the trigger named, when it named one.
    public var flow: String?
    public var reason: String
    public var field: String?
    public var message: String
    public var correlationID: String?
    public var bodyBytes: Int
    public var receivedAt: Date

    public init(
        id: Int64, messageID: String?, routingKey: String, flow: String?, reason: String, field: String?,
        message: String, correlationID: String?, bodyBytes: Int, receivedAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.routingKey = routingKey
        self.flow = flow
        self.reason = reason
        self.field = field
        self.message = message
        self.correlationID = correlationID
        self.bodyBytes = bodyBytes
        self.receivedAt = receivedAt
    }
}

extension TriggerRejectionStore {
    /// The most rejections one listing returns.
    public static let maximumLimit = 500

    /// The rejection recorded for this message id, if any (how the operators' API learns that the
    /// trigger it published was refused).
    public func find(messageID: String) async throws -> TriggerRejectionRecord? {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, message_id, routing_key, flow, reason, field, message, correlation_id, body_bytes,
                       received_at
                FROM trigger_rejections WHERE message_id = \(messageID)
                """
            ).first.map(Self.decoded)
        }
    }

    /// Rejections newest first, at most `limit` (capped at `maximumLimit`); with `before`, only those
    /// recorded before that rejection (the previous page's last id), so pages do not shift as new ones
    /// arrive.
    public func recent(limit: Int = 50, before: Int64? = nil) async throws -> [TriggerRejectionRecord] {
        let limit = min(max(limit, 1), Self.maximumLimit)
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, message_id, routing_key, flow, reason, field, message, correlation_id, body_bytes,
                       received_at
                FROM trigger_rejections
                WHERE (\(before)::bigint IS NULL OR id < \(before))
                ORDER BY id DESC LIMIT \(limit)
                """
            ).map(Self.decoded)
        }
    }

    static func decoded(_ row: PGRow) throws -> TriggerRejectionRecord {
        let (id, messageID, routingKey, flow, reason, field, message, correlation, bytes, received) =
            try row.decode(
                (Int64, String?, String, String?, String, String?, String, String?, Int, Date).self)
        return TriggerRejectionRecord(
            id: id, messageID: messageID, routingKey: routingKey, flow: flow, reason: reason, field: field,
            message: message, correlationID: correlation, bodyBytes: bytes, receivedAt: received)
    }
}
