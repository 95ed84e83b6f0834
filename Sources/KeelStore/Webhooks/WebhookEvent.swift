import Foundation
public import KeelCore

/// The `keel.events` message a notification is made from: its message id makes enqueueing idempotent
/// (the outbox delivers at least once), its type and run say what the webhook is about.
public struct WebhookEvent: Sendable, Hashable {
    public var messageID: String
    public var type: NotificationEvent
    public var runID: RunID
    public var flow: String

    public init(messageID: String, type: NotificationEvent, runID: RunID, flow: String) {
        self.messageID = messageID
        self.type = type
        self.runID = runID
        self.flow = flow
    }
}

/// One delivery to enqueue: its id (the `webhook-id` header every attempt repeats), target and body.
public struct NewWebhookDelivery: Sendable, Hashable {
    public var id: String
    public var target: WebhookTarget
    /// The JSON body, already rendered in the target's format; signed when sent.
    public var body: JSONValue

    public init(id: String = NewWebhookDelivery.makeID(), target: WebhookTarget, body: JSONValue) {
        self.id = id
        self.target = target
        self.body = body
    }

    /// `msg_` and 32 random hex digits, like the ids Standard Webhooks' libraries make.
    public static func makeID() -> String {
        "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
