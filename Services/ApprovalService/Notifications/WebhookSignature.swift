import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): the `webhook-signature` header is
/// `v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`. The id stays the same on
/// every retry of a delivery and the timestamp is each attempt's own, so a receiver can both
/// deduplicate and refuse replays of old attempts.
enum WebhookSignature {
    static func sign(id: String, timestamp: Int, body: [UInt8], secret: WebhookSecret) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: secret.key)
        return "v1," + Data(code).base64EncodedString()
    }

    /// The three headers of one attempt.
    static func headers(id: String, timestamp: Int, body: [UInt8], secret: WebhookSecret) -> [(
        String, String
    )] {
        [
            ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", sign(id: id, timestamp: timestamp, body: body, secret: secret)),
        ]
    }
}
