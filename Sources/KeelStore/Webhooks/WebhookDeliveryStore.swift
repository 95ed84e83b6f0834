import Foundation
import KeelCore
public import PGClient

/// Webhook deliveries and their attempts in PostgreSQL (docs/notifications.md).
///
/// A delivery is written once per event and target, in the transaction that handles the event, so a
/// redelivered event (the outbox is at least once) adds nothing. Senders claim due deliveries with
/// `FOR UPDATE SKIP LOCKED` and hold each for a lease instead of a transaction: a post may take its
/// whole timeout, and a replica that dies mid-post leaves a claim that expires, not a lock.
public struct WebhookDeliveryStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Writes one delivery per entry of `deliveries` for `event`, in one transaction; an event already
    /// written for a target is skipped. Returns how many were new.
    @discardableResult
    public func enqueue(_ event: WebhookEvent, deliveries: [NewWebhookDelivery]) async throws -> Int {
        guard !deliveries.isEmpty else { return 0 }
        return try await pool.withTransaction { connection in
            var inserted = 0
            for delivery in deliveries {
                let rows = try await connection.query(
                    """
                    INSERT INTO webhook_deliveries
                        (id, event_message_id, event_type, run_id, flow, target_url, format, body)
                    VALUES (\(delivery.id), \(event.messageID.storable), \(event.type.rawValue), \(event.runID),
                            \(event.flow), \(delivery.target.url), \(delivery.target.format.rawValue),
                            \(PGJSON(bytes: delivery.body.jsonBytes())))
                    ON CONFLICT (event_message_id, target_url) DO NOTHING
                    RETURNING 1
                    """)
                inserted += rows.count
            }
            return inserted
        }
    }

    /// Claims up to `limit` due deliveries for one attempt each, for `lease`: their attempt count goes up
    /// and they are not due again until the lease passes, so no other sender posts them meanwhile.
    /// Deliveries whose last claimed attempt (`maximumAttempts`) never reported back are failed here.
    public func claimDue(limit: Int, lease: Duration, maximumAttempts: Int) async throws
        -> [ClaimedWebhookDelivery]
    {
        let leaseMilliseconds = Int(lease.components.seconds * 1000)
        return try await pool.withTransaction { connection in
            try await connection.execute(
                """
                UPDATE webhook_deliveries
                SET status = 'failed', last_error = 'the last attempt reported no outcome'
                WHERE status = 'pending' AND attempts >= \(maximumAttempts) AND next_attempt_at <= now()
                """)
            return try await connection.query(
                """
                UPDATE webhook_deliveries
                SET attempts = attempts + 1,
                    next_attempt_at = now() + \(leaseMilliseconds) * interval '1 millisecond'
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= now() AND attempts < \(maximumAttempts)
                    ORDER BY next_attempt_at LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, target_url, format, body::text, attempts
                """
            ).map { row in
                let (id, targetURL, format, body, attempt) = try row.decode(
                    (String, String, String, String, Int).self)
                return ClaimedWebhookDelivery(
                    id: id, targetURL: targetURL, format: NotificationFormat(rawValue: format) ?? .standard,
                    body: body, attempt: attempt)
            }
        }
    }

    /// Records an attempt's result and what follows, in one transaction. The delivery moves on only if
    /// this attempt is still its latest claim (a sender whose lease passed records its attempt but
    /// decides nothing). Returns whether it moved on.
    @discardableResult
    public func record(
        _ claimed: ClaimedWebhookDelivery, result: WebhookAttemptResult, next: WebhookNextStep
    ) async throws -> Bool {
        try await pool.withTransaction { connection in
            try await connection.execute(
                """
                INSERT INTO webhook_attempts
                    (delivery_id, attempt, status_code, error_class, response_excerpt, duration_ms)
                VALUES (\(claimed.id), \(claimed.attempt), \(result.statusCode), \(result.errorClass?.storable),
                        \(result.responseExcerpt?.storable), \(max(0, result.durationMilliseconds)))
                ON CONFLICT (delivery_id, attempt) DO NOTHING
                """)
            let error: String? = if case .delivered = next { nil } else { result.summary.storable }
            let rows: [PGRow]
            switch next {
            case .delivered:
                rows = try await connection.query(
                    """
                    UPDATE webhook_deliveries
                    SET status = 'delivered', delivered_at = now(), last_error = NULL
                    WHERE id = \(claimed.id) AND attempts = \(claimed.attempt) AND status = 'pending'
                    RETURNING 1
                    """)
            case .retry(let delay):
                let milliseconds = Int(
                    delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
                rows = try await connection.query(
                    """
                    UPDATE webhook_deliveries
                    SET next_attempt_at = now() + \(milliseconds) * interval '1 millisecond', last_error = \(error)
                    WHERE id = \(claimed.id) AND attempts = \(claimed.attempt) AND status = 'pending'
                    RETURNING 1
                    """)
            case .failed:
                rows = try await connection.query(
                    """
                    UPDATE webhook_deliveries SET status = 'failed', last_error = \(error)
                    WHERE id = \(claimed.id) AND attempts = \(claimed.attempt) AND status = 'pending'
                    RETURNING 1
                    """)
            }
            return !rows.isEmpty
        }
    }

    /// The `limit` newest deliveries, newest first, each with its attempts (for an operator's page).
    public func recentDeliveries(limit: Int) async throws -> [WebhookDeliveryRecord] {
        try await pool.withConnection { connection in
            var deliveries = try await connection.query(
                """
                SELECT id, event_message_id, event_type, run_id, flow, target_url, format, status, attempts,
                       next_attempt_at, created_at, delivered_at, last_error, body::text
                FROM webhook_deliveries ORDER BY created_at DESC, id LIMIT \(max(0, limit))
                """
            ).map { row in
                let (
                    id, eventMessageID, eventType, runID, flow, targetURL, format, status, attempts,
                    nextAttemptAt, createdAt, deliveredAt, lastError, body
                ) = try row.decode(
                    (
                        String, String, String, RunID, String, String, String, String, Int,
                        Date, Date, Date?, String?, String
                    ).self)
                return WebhookDeliveryRecord(
                    id: id, eventMessageID: eventMessageID, eventType: eventType, runID: runID, flow: flow,
                    targetURL: targetURL, format: format, status: status, attempts: attempts,
                    nextAttemptAt: nextAttemptAt, createdAt: createdAt, deliveredAt: deliveredAt,
                    lastError: lastError, body: body, attemptsMade: [])
            }
            guard !deliveries.isEmpty else { return [] }
            let ids = deliveries.map(\.id)
            var attempts: [String: [WebhookAttemptRecord]] = [:]
            for row in try await connection.query(
                """
                SELECT delivery_id, attempt, status_code, error_class, response_excerpt, duration_ms, attempted_at
                FROM webhook_attempts WHERE delivery_id = ANY(\(ids)) ORDER BY delivery_id, attempt
                """)
            {
                let (deliveryID, attempt, statusCode, errorClass, responseExcerpt, duration, attemptedAt) =
                    try row.decode((String, Int, Int?, String?, String?, Int, Date).self)
                attempts[deliveryID, default: []].append(
                    WebhookAttemptRecord(
                        attempt: attempt, statusCode: statusCode, errorClass: errorClass,
                        responseExcerpt: responseExcerpt, durationMilliseconds: duration,
                        attemptedAt: attemptedAt))
            }
            for index in deliveries.indices {
                deliveries[index].attemptsMade = attempts[deliveries[index].id] ?? []
            }
            return deliveries
        }
    }
}
