import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelService
import KeelStore
import Logging
import Metrics
import PGClient

/// Consumes `keel.callbacks`: each message is `{"token": ..., "status": ..., "output": ..., "resources":
/// [...]}` and takes the same path as an HTTP callback (`CallbackReceiver`), so it is verified and applied
/// exactly as if it had been posted.
///
/// The answer goes to `reply_to` when the message has one. A message refused for what it carries (bad
/// token, bad body) is dead-lettered to `keel.dead.keel.callbacks` with `keel-reason` and `keel-error`,
/// its token replaced by `[redacted]` — a dead letter must not hand out a live token. A callback for a
/// closed wait is not dead-lettered: it is recorded and answered like any late callback.
enum CallbackMessages {
    static func consumer(
        receiver: CallbackReceiver, pool: PGPool,
        connection: @escaping @Sendable () async throws -> AMQPConnection,
        publishing: @escaping @Sendable () async throws -> AMQPConnection, prefetch: Int, logger: Logger
    ) -> DeliveryConsumer {
        DeliveryConsumer(
            name: "callback consumer", declaration: KeelTopology.callbackGateway,
            queues: [KeelTopology.callbackQueue.name], prefetch: prefetch, connection: connection,
            publishing: publishing, logger: logger,
            refusal: DeliveryConsumer.Refusal(
                reply: { delivery, reason in
                    // The same problem HTTP answers an oversize body with; anything else as refused.
                    if delivery.body.count > CallbackRequest.maximumBodyBytes {
                        return CallbackReply.bodyTooLarge.body.jsonBytes()
                    }
                    return CallbackReply.problem(
                        ProblemDetails(
                            status: .unprocessableContent, type: "/problems/refused",
                            title: "Callback refused",
                            detail: reason),
                        outcome: "refused"
                    ).body.jsonBytes()
                },
                deadLetterBody: CallbackTokenRedaction.redact)
        ) { delivery in
            // As large as HTTP allows, no larger: bigger results belong in an upload.
            if delivery.body.count > CallbackRequest.maximumBodyBytes {
                throw OversizeMessage(bytes: delivery.body.count, limit: CallbackRequest.maximumBodyBytes)
            }
            let reply = try await receive(delivery, receiver: receiver)
            var messages: [OutboxMessage] = []
            if let replyTo = delivery.properties.replyTo, !replyTo.isEmpty {
                messages.append(
                    OutboxMessage(
                        exchange: "", routingKey: replyTo,
                        correlationID: delivery.properties.correlationID,
                        headers: ["keel-schema": "1", "keel-type": "callback.reply"],
                        body: reply.body.jsonBytes()))
            }
            if reply.isRefusal { messages.append(deadLetter(delivery, reply: reply)) }
            if !messages.isEmpty {
                try await pool.withTransaction { connection in
                    try await OutboxStore.enqueue(messages, on: connection)
                }
            }
            if reply.isRefusal {
                Counter(
                    label: "keel_dead_letters_total",
                    dimensions: [("queue", KeelTopology.callbackQueue.name), ("reason", reply.outcome)]
                ).increment()
            }
            return .ack
        }
    }

    static func receive(_ delivery: AMQPDelivery, receiver: CallbackReceiver) async throws -> CallbackReply {
        var object: JSONObject
        do {
            object = try CallbackRequest.object(delivery.body)
        } catch {
            return receiver.record(CallbackReceiver.reply(for: error), via: .amqp)
        }
        let token = object.removeValue(forKey: "token")
        guard let text = token?.stringValue else {
            let reply: CallbackReply =
                token == nil
                ? .unauthorized("A callback message needs its token in the body's \"token\" field.")
                : .invalid([.init(pointer: "/token", detail: "expected a string")])
            return receiver.record(reply, via: .amqp)
        }
        return try await receiver.receive(
            token: text, object: object, via: .amqp,
            trace: delivery.properties.headers["traceparent"]?.stringValue.flatMap(
                TraceContext.init(traceparent:)))
    }

    /// The message as it came, to `keel.dead.keel.callbacks`, with every callback token in its body
    /// replaced and the reason in its headers.
    static func deadLetter(_ delivery: AMQPDelivery, reply: CallbackReply) -> OutboxMessage {
        var headers: [String: String] = [:]
        for (key, value) in delivery.properties.headers {
            if let text = value.stringValue { headers[key] = text }
        }
        headers["keel-reason"] = reply.outcome
        headers["keel-error"] = reply.body.objectValue?["detail"]?.stringValue ?? reply.outcome
        headers["keel-original-routing-key"] = delivery.routingKey
        return OutboxMessage(
            exchange: KeelTopology.deadLetters.name, routingKey: KeelTopology.callbackQueue.name,
            correlationID: delivery.properties.correlationID,
            replyTo: delivery.properties.replyTo,
            headers: headers, body: CallbackTokenRedaction.redact(delivery.body))
    }
}
