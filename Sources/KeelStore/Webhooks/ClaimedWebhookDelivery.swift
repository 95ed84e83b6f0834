public import KeelCore

/// A delivery a sender claimed for one attempt: it alone may post this attempt until the claim's lease
/// passes, and only its result for `attempt` is recorded.
public struct ClaimedWebhookDelivery: Sendable, Hashable {
    public var id: String
    public var targetURL: String
    public var format: NotificationFormat
    /// The body's JSON text exactly as stored; the same bytes on every attempt, so the same signature
    /// input but for the timestamp.
    public var body: String
    /// This attempt's number, from 1.
    public var attempt: Int
}

/// What one attempt found: the receiver's status, or the class of error when there was no answer
/// (`timeout`, `connection`, `tls`, ...), never the error's own text, which could quote the URL.
public struct WebhookAttemptResult: Sendable, Hashable {
    public var statusCode: Int?
    public var errorClass: String?
    /// The start of the response body, printable characters only.
    public var responseExcerpt: String?
    public var durationMilliseconds: Int

    public init(statusCode: Int?, errorClass: String?, responseExcerpt: String?, durationMilliseconds: Int) {
        self.statusCode = statusCode
        self.errorClass = errorClass
        self.responseExcerpt = responseExcerpt
        self.durationMilliseconds = durationMilliseconds
    }

    /// For `last_error` and logs: `HTTP 500` or the error class.
    public var summary: String {
        if let statusCode { return "HTTP \(statusCode)" }
        return errorClass ?? "no answer"
    }
}

/// What becomes of a delivery after an attempt.
public enum WebhookNextStep: Sendable, Hashable {
    /// 2xx: done.
    case delivered
    /// Tried again after this delay.
    case retry(after: Duration)
    /// Given up: a refusal no retry can change, or the last attempt failed.
    case failed
}
