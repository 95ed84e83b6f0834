import AMQPClient
import Foundation
import KeelTestSupport
import Testing

/// The step queues against hostile publishers: the real step-executor on the real PostgreSQL and
/// RabbitMQ. What is not a dispatch, or carries what PostgreSQL cannot store, is dead-lettered at once
/// with its reason; a dispatch of an attempt that is not waiting to start is dropped; none of them
/// holds a prefetch slot, and a real run behind them finishes.
@Suite(.serialized) struct HostileDispatchTests {
    static let flow = """
        flow: hostile-steps
        steps:
          - id: one
            noop: {}
        """

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let runID = "01a24d21-baa4-70c5-a3a4-d79d3baee6a9"

    /// Each with the reason its dead letter must give (nil: dropped, not dead-lettered).
    static let bad: [(name: String, body: [UInt8], error: String?)] = [
        ("not JSON", json("{nope"), "not a step dispatch"),
        ("invalid UTF-8", json(#"{"run_id": ""#) + [0xFF] + json(#""}"#), "not a step dispatch"),
        ("a wrong type", json(#"{"run_id": 5}"#), "not a step dispatch"),
        (
            "a run id that is not a UUID",
            json(
                #"{"run_id": "run-1", "flow": "hostile-steps", "version": 1, "step": "one", "attempt": 1, "idempotency_key": "k", "correlation_id": "c"}"#
            ), "not a step dispatch"
        ),
        (
            "NUL in the run id",
            json(
                #"{"run_id": "\#(runID)\u0000", "flow": "hostile-steps", "version": 1, "step": "one", "attempt": 1, "idempotency_key": "k", "correlation_id": "c"}"#
            ), "not a step dispatch"
        ),
        (
            "NUL in the step",
            json(
                #"{"run_id": "\#(runID)", "flow": "hostile-steps", "version": 1, "step": "o\u0000ne", "attempt": 1, "idempotency_key": "k", "correlation_id": "c"}"#
            ), "U+0000"
        ),
        (
            "a 2 MiB body",
            json(#"{"pad": ""#) + Array(repeating: UInt8(ascii: "a"), count: 2 << 20) + json(#""}"#),
            "not a step dispatch"
        ),
        (
            "an attempt that does not exist",
            json(
                #"{"run_id": "\#(runID)", "flow": "hostile-steps", "version": 1, "step": "one", "attempt": 1, "idempotency_key": "k", "correlation_id": "c"}"#
            ), nil
        ),
    ]

    @Test func badDispatchesAreDeadLetteredWithTheirReasonAndARealRunStillFinishes() async throws {
        let rounds = 10
        let stack = try await EngineStack(flows: [Self.flow], environment: ["KEEL_AMQP_PREFETCH": "2"])
        for _ in 0..<rounds {
            for bad in Self.bad {
                try await stack.channel.publish(
                    bad.body, exchange: "keel.steps", routingKey: "default.0",
                    properties: AMQPProperties(contentType: "application/json", correlationID: bad.name),
                    mandatory: true)
            }
        }
        // Forty times the prefetch of bad messages ahead of it: a wedged consumer would never get here.
        try await stack.trigger("hostile-steps", key: "after")
        let run = try await stack.runID(key: "after", flow: "hostile-steps")
        #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")

        var reasons: [String: [String]] = [:]
        let expected = rounds * Self.bad.filter { $0.error != nil }.count
        let deadline = ContinuousClock.now + .seconds(30)
        var total = 0
        while total < expected, ContinuousClock.now < deadline {
            guard let delivery = try await stack.channel.get(queue: "keel.dead.keel.steps.default.0") else {
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            try await stack.channel.ack(delivery)
            total += 1
            reasons[delivery.properties.correlationID ?? "?", default: []].append(
                delivery.properties.headers["keel-error"]?.stringValue ?? "-")
        }
        #expect(total == expected)
        for bad in Self.bad {
            let kept = reasons[bad.name] ?? []
            if let error = bad.error {
                #expect(kept.count == rounds, "\(bad.name): \(kept.count) dead letters")
                #expect(kept.allSatisfy { $0.contains(error) }, "\(bad.name): \(kept.first ?? "-")")
            } else {
                #expect(kept.isEmpty, "\(bad.name) was dead-lettered: \(kept)")
            }
        }
        try await stack.stop()
    }
}
