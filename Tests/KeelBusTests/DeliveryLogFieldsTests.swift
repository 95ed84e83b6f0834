import AMQPClient
import Logging
import Testing

@testable import KeelBus

/// What the consumer's own lines say about a delivery it dead-letters, requeues or retries: the
/// message's correlation id and trace find the run, though the body is never read for them.
@Suite struct DeliveryLogFieldsTests {
    @Test func aDeliveryNamesItsQueueIdsAndTrace() {
        let delivery = AMQPDelivery(
            body: Array("{}".utf8),
            properties: AMQPProperties(
                headers: ["traceparent": .string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
                correlationID: "corr-7", messageID: "m-1"))
        let fields = DeliveryConsumer.fields(of: delivery, from: "keel.steps.default.0", ["reason": "bad"])
        #expect(fields["queue"] == "keel.steps.default.0")
        #expect(fields["message_id"] == "m-1")
        #expect(fields["correlation_id"] == "corr-7")
        #expect(fields["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(fields["reason"] == "bad")
    }

    @Test func aMalformedTraceIsLeftOffAndMissingIdsAreDashes() {
        let delivery = AMQPDelivery(
            body: [], properties: AMQPProperties(headers: ["traceparent": .string("00-nonsense")]))
        let fields = DeliveryConsumer.fields(of: delivery, from: "keel.triggers", [:])
        #expect(fields["trace_id"] == nil)
        #expect(fields["message_id"] == "-" && fields["correlation_id"] == "-")
    }
}
