import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore

/// The messages trigger-intake sends about a trigger: answers on `reply_to`, and dead letters.
enum TriggerReply {
    /// `{"type": "run.accepted", "run_id": ..., "flow": ..., "version": N, "idempotency_key": ..., "duplicate": bool}`
    static func accepted(run: NewRun, creation: RunCreation, replyTo: String) -> OutboxMessage {
        var body = JSONObject()
        body["type"] = "run.accepted"
        body["run_id"] = .string(creation.runID.description)
        body["flow"] = .string(run.flow)
        switch creation {
        case .created: body["version"] = .number(JSONNumber(run.version))
        case .existing(_, let version): body["version"] = .number(JSONNumber(version))
        }
        body["idempotency_key"] = .string(run.idempotencyKey)
        if case .existing = creation { body["duplicate"] = true } else { body["duplicate"] = false }
        return OutboxMessage(
            exchange: "", routingKey: replyTo, correlationID: run.correlationID,
            headers: OutboxMessage.traced(
                ["keel-schema": "1", "keel-type": "run.accepted"], run.traceparent),
            body: JSONValue.object(body).jsonBytes())
    }

    /// `{"type": "trigger.rejected", "reason": ..., "field": ..., "message": ..., "errors": [...]}`
    static func rejected(
        _ rejection: TriggerRejection, correlationID: String, replyTo: String, traceparent: String?
    ) -> OutboxMessage {
        var body = JSONObject()
        body["type"] = "trigger.rejected"
        body["reason"] = .string(rejection.reason.rawValue)
        body["field"] = rejection.field.map(JSONValue.string) ?? .null
        body["message"] = .string(rejection.message)
        body["errors"] = .array(
            rejection.errors.map {
                .object([
                    "path": .string($0.path), "keyword": .string($0.keyword), "message": .string($0.message),
                ])
            })
        return OutboxMessage(
            exchange: "", routingKey: replyTo, correlationID: correlationID,
            headers: OutboxMessage.traced(
                ["keel-schema": "1", "keel-type": "trigger.rejected"], traceparent),
            body: JSONValue.object(body).jsonBytes())
    }

    /// The answer to a trigger the consumer refused before any rejection could be recorded (what the
    /// database would not store even as a rejection): the body of a `trigger.rejected` reply.
    static func refused(reason: String) -> [UInt8] {
        var body = JSONObject()
        body["type"] = "trigger.rejected"
        body["reason"] = .string("refused")
        body["field"] = .null
        body["message"] = .string(reason)
        body["errors"] = .array([])
        return JSONValue.object(body).jsonBytes()
    }

    /// The original body and headers, to `keel.dead.keel.triggers`, with why it died in `keel-reason`,
    /// `keel-field` and `keel-error`.
    static func deadLetter(_ delivery: AMQPDelivery, rejection: TriggerRejection) -> OutboxMessage {
        var headers: [String: String] = [:]
        for (key, value) in DeadLetterHeaders.carried(delivery.properties.headers) {
            if let text = value.stringValue { headers[key] = text }
        }
        headers["keel-reason"] = rejection.reason.rawValue
        headers["keel-error"] = rejection.message
        if let field = rejection.field { headers["keel-field"] = field }
        headers["keel-original-routing-key"] = delivery.routingKey
        return OutboxMessage(
            exchange: KeelTopology.deadLetters.name, routingKey: KeelTopology.triggerQueue.name,
            messageID: UUID(), correlationID: delivery.properties.correlationID,
            replyTo: delivery.properties.replyTo,
            headers: headers, body: delivery.body)
    }
}
