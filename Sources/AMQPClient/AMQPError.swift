/// An error from the AMQP client: what went wrong (`code`), during which operation, and the
/// broker's or library's explanation.
///
/// The description never contains a password or a message body.
public struct AMQPError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure this is; switch on it to decide whether to retry.
    public enum Code: Sendable, Hashable {
        /// The configuration or URL is not usable.
        case invalidConfiguration
        /// The TCP connection or the AMQP login failed.
        case connectionFailed
        /// The connection was closed (by `close()`, by the broker, or lost) while the call was in flight,
        /// or it stayed down longer than the recovery policy's `outageWait`. A publish that fails with this
        /// code was not confirmed: it may or may not have reached the queue, so retry it.
        case connectionClosed
        /// The broker closed the channel, e.g. 404 NOT_FOUND or 406 PRECONDITION_FAILED; the channel is
        /// unusable afterwards, open a new one.
        case channelClosed(replyCode: UInt16, replyText: String)
        /// The broker refused to take responsibility for a published message (e.g. a full queue with
        /// `x-overflow: reject-publish`).
        case nacked
        /// A mandatory message could not be routed to any queue.
        case returned(replyCode: UInt16, replyText: String)
        /// The broker cancelled the consumer, e.g. because its queue was deleted.
        case consumerCancelled
        /// The broker did not answer in time, or missed its heartbeats.
        case timeout
        /// The broker sent something the client did not expect.
        case protocolError
        /// A message's properties (its headers, mostly) do not fit in one frame of the negotiated size,
        /// so it cannot be published; nothing was sent and the connection is still usable.
        case propertiesTooLarge(size: Int, limit: Int)
    }

    public var code: Code
    /// The AMQP operation that failed, e.g. "queue.declare 'jobs'".
    public var operation: String?
    /// The broker's or librabbitmq's explanation.
    public var reason: String?

    public init(_ code: Code, operation: String? = nil, reason: String? = nil) {
        self.code = code
        self.operation = operation
        self.reason = reason
    }

    public static let nacked = AMQPError(.nacked)
    public static let connectionClosed = AMQPError(.connectionClosed)

    public static func returned(_ replyCode: UInt16, _ replyText: String) -> AMQPError {
        AMQPError(.returned(replyCode: replyCode, replyText: replyText))
    }

    public static func channelClosed(_ replyCode: UInt16, _ replyText: String) -> AMQPError {
        AMQPError(.channelClosed(replyCode: replyCode, replyText: replyText))
    }

    /// Errors are equal when their codes are, so `error == .nacked` and `#expect(throws: AMQPError.nacked)`
    /// work whatever operation and reason the error carries.
    public static func == (lhs: AMQPError, rhs: AMQPError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        var text: String
        switch code {
        case .invalidConfiguration: text = "invalid AMQP configuration"
        case .connectionFailed: text = "AMQP connection failed"
        case .connectionClosed: text = "AMQP connection closed"
        case .channelClosed(let replyCode, let replyText):
            text = "AMQP channel closed: \(replyCode) \(replyText)"
        case .nacked: text = "message nacked by the broker"
        case .returned(let replyCode, let replyText):
            text = "message returned: \(replyCode) \(replyText)"
        case .consumerCancelled: text = "consumer cancelled by the broker"
        case .timeout: text = "AMQP timeout"
        case .protocolError: text = "AMQP protocol error"
        case .propertiesTooLarge(let size, let limit):
            text = "message properties of \(size) bytes do not fit in a frame (at most \(limit) bytes)"
        }
        if let operation { text += " during \(operation)" }
        if let reason { text += ": \(reason)" }
        return text
    }
}
