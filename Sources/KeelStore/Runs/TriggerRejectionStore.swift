import Foundation
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
