import Instrumentation
public import Foundation
import KeelCore

/// A message to publish once the transaction that wrote it commits (the transactional outbox).
///
/// Headers are string-valued: Keel's headers (`keel-schema`, `traceparent`, `keel-reason`...) are all
/// text, which keeps the stored form plain JSON.
public struct OutboxMessage: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    /// Consumers deduplicate on it; a message published twice (relay crash before marking it sent)
    /// carries the same id both times.
    public var messageID: UUID
    public var correlationID: String?
    public var replyTo: String?
    public var headers: [String: String]
    public var body: [UInt8]

    public init(
        exchange: String, routingKey: String, messageID: UUID = UUID(), correlationID: String? = nil,
        replyTo: String? = nil, headers: [String: String] = [:], body: [UInt8]
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageID = messageID
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.headers = headers
        self.body = body
    }
}

/// An outbox row claimed for publishing.
public struct PendingOutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var message: OutboxMessage
    /// How many publishes were tried before this one.
    public var attempts: Int
    public var createdAt: Date
}

extension OutboxMessage {
    /// `headers` with a `traceparent` continuing the trace `traceparent` names — the same trace, a span
    /// per message — when there is one (W3C Trace Context).
    /// With a tracer, and when the work writing it is a span of that same trace, the message names that
    /// span, so the relay's publish span (and the consumer's after it) hang under the work that caused it.
    public static func traced(_ headers: [String: String], _ traceparent: String?) -> [String: String] {
        guard let continued = TraceContext.continuing(traceparent) else { return headers }
        var traced = headers
        traced["traceparent"] = continued
        if let current = ServiceContext.current.flatMap(TraceSpans.traceparent(of:)),
            let span = TraceContext(traceparent: current),
            span.traceID == TraceContext(traceparent: continued)?.traceID
        {
            traced["traceparent"] = current
        }
        return traced
    }
}
