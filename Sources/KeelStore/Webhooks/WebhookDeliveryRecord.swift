public import Foundation
public import KeelCore

/// A delivery as an operator sees it (`WebhookDeliveryStore.recentDeliveries`), with every attempt.
public struct WebhookDeliveryRecord: Sendable, Hashable, Codable {
    public var id: String
    public var eventMessageID: String
    public var eventType: String
    public var runID: RunID
    public var flow: String
    public var targetURL: String
    public var format: String
    /// `pending`, `delivered` or `failed`.
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var deliveredAt: Date?
    public var lastError: String?
    /// The JSON text posted.
    public var body: String
    /// Oldest first.
    public var attemptsMade: [WebhookAttemptRecord]
}

/// One try of a delivery, as recorded (append-only).
public struct WebhookAttemptRecord: Sendable, Hashable, Codable {
    public var attempt: Int
    public var statusCode: Int?
    public var errorClass: String?
    public var responseExcerpt: String?
    public var durationMilliseconds: Int
    public var attemptedAt: Date
}
