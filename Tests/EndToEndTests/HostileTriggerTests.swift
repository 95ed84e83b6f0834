import AMQPClient
import Foundation
import KeelBus
import KeelTestSupport
import Logging
import PGClient
import Testing

/// trigger-intake against hostile publishers: the real executable, PostgreSQL and RabbitMQ, and a
/// flood of triggers no retry can help (U+0000 where PostgreSQL stores text, invalid UTF-8, deep
/// nesting, numbers beyond `numeric`, bodies over the limit, headers filling the broker's frame,
/// wrong types, unknown flows, input that makes a backtracking regex run for ever) ahead of valid
/// ones. None may wedge the consumer: every bad one is answered and dead-lettered with its reason,
/// every valid one behind them becomes a run, and the service's memory stays flat.
///
/// `KEEL_HOSTILE_TRIGGERS` sets how many poison triggers are sent (default 60; the figures in
/// docs/security.md were measured with 1,000 and more), `KEEL_HOSTILE_VALID` how many valid ones
/// (default: as many).
@Suite(.serialized) struct HostileTriggerTests: KeelCLITesting {
    struct Poison {
        var name: String
        var body: [UInt8]
        var routingKey = "intake-demo"
        /// Appended to the correlation id property (U+0000 to poison it).
        var correlationSuffix = ""
        /// Application headers sent with it.
        var headers: AMQPTable = [:]
        /// The `reason` of the `trigger.rejected` answer and the dead letter's `keel-reason`.
        var reason: String
        var deadLetterReason: String?
    }

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let poisons: [Poison] = [
        Poison(
            name: "NUL in an input string",
            body: json(#"{"flow": "intake-demo", "input": {"task": "a\u0000b"}}"#), reason: "unstorable_value"
        ),
        Poison(
            name: "NUL in an input key",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x", "k\u0000": 1}}"#),
            reason: "unstorable_value"),
        Poison(
            name: "NUL in the idempotency key",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x"}, "idempotency_key": "k\u0000"}"#),
            reason: "unstorable_value"),
        Poison(
            name: "NUL in the actor",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x"}, "actor": "\u0000"}"#),
            reason: "unstorable_value"),
        Poison(
            name: "NUL in the correlation id property",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x"}}"#), correlationSuffix: "\u{0}",
            reason: "invalid_properties"),
        Poison(
            name: "a number beyond numeric",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x", "n": 1e999999}}"#),
            reason: "unstorable_value"),
        Poison(
            name: "invalid UTF-8",
            body: json(#"{"flow": "intake-demo", "input": {"task": ""#) + [0xFF, 0xFE] + json(#""}}"#),
            reason: "malformed_json"),
        Poison(
            name: "deep nesting",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x", "deep": "#)
                + Array(repeating: UInt8(ascii: "["), count: 50_000)
                + Array(repeating: UInt8(ascii: "]"), count: 50_000) + json("}}"),
            reason: "malformed_json"),
        Poison(
            name: "a 2 MiB body",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x", "pad": ""#)
                + Array(repeating: UInt8(ascii: "a"), count: 2 << 20) + json(#""}}"#),
            reason: "refused", deadLetterReason: "refused"),
        Poison(name: "a wrong type", body: json(#"{"flow": 5}"#), reason: "invalid_body"),
        Poison(
            // A later release's message: refused before its body is read, never guessed at.
            name: "a contract version this build does not read",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x"}}"#), headers: ["keel-schema": "2"],
            reason: "refused", deadLetterReason: "refused"),
        Poison(
            // The content header frame is nearly the broker's 128 KiB frame: a dead letter that copied
            // it and added its reason would not fit in one.
            name: "headers that fill the frame", body: json(#"{"flow": 5}"#),
            headers: ["x-pad": .string(String(repeating: "h", count: 130_800))], reason: "invalid_body"),
        Poison(
            name: "an unknown flow", body: json(#"{"flow": "no-such-flow"}"#), routingKey: "no-such-flow",
            reason: "unknown_flow"),
        Poison(
            name: "a catastrophic input for the schema's pattern",
            body: json(#"{"flow": "intake-demo", "input": {"task": "x", "label": ""#)
                + Array(repeating: UInt8(ascii: "a"), count: 100_000) + json(#"!"}}"#),
            reason: "invalid_input"),
        Poison(
            name: "an input the schema refuses",
            body: json(#"{"flow": "intake-demo", "input": {"task": 5}}"#), reason: "invalid_input"),
    ]

    @Test func poisonTriggersAreAnsweredAndDeadLetteredAndTheValidOnesBehindThemAllBecomeRuns() async throws {
        let count = TestEnvironment.value("KEEL_HOSTILE_TRIGGERS").flatMap(Int.init) ?? 60
        let validCount = TestEnvironment.value("KEEL_HOSTILE_VALID").flatMap(Int.init) ?? count
        let stack = try await TriggerIntakeTests().startStack()
        let residentBefore = try #require(stack.service.residentBytes)
        let started = ContinuousClock.now

        for index in 0..<count {
            let poison = Self.poisons[index % Self.poisons.count]
            try await stack.channel.publish(
                poison.body, exchange: "keel.triggers", routingKey: poison.routingKey,
                properties: AMQPProperties(
                    contentType: "application/json", headers: poison.headers,
                    correlationID: "poison-\(index)" + poison.correlationSuffix,
                    replyTo: stack.replies, messageID: "poison-\(index)"),
                mandatory: true)
        }
        for index in 0..<validCount {
            try await stack.channel.publish(
                Self.json(#"{"flow": "intake-demo", "input": {"task": "t\#(index)"}}"#),
                exchange: "keel.triggers",
                routingKey: "intake-demo",
                properties: AMQPProperties(
                    contentType: "application/json", correlationID: "valid-\(index)", replyTo: stack.replies,
                    messageID: "valid-\(index)"),
                mandatory: true)
        }

        // Every trigger is answered: the correlation id (U+0000 comes back as U+FFFD) → type and reason.
        var answers: [String: (type: String, reason: String?)] = [:]
        let deadline = ContinuousClock.now + .seconds(60 + count / 4)
        while answers.count < count + validCount, ContinuousClock.now < deadline {
            guard let delivery = try await stack.channel.get(queue: stack.replies) else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            try await stack.channel.ack(delivery)
            let body = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any]
            let id = (delivery.properties.correlationID ?? "?").replacingOccurrences(of: "\u{FFFD}", with: "")
            answers[id] = (body?["type"] as? String ?? "?", body?["reason"] as? String)
        }
        let elapsed = ContinuousClock.now - started
        #expect(
            answers.count == count + validCount,
            "answered \(answers.count) of \(count + validCount):\n\(stack.service.output.suffix(4000))")
        for index in 0..<validCount {
            #expect(
                answers["valid-\(index)"]?.type == "run.accepted",
                "valid-\(index): \(String(describing: answers["valid-\(index)"]))")
        }
        for index in 0..<count {
            let poison = Self.poisons[index % Self.poisons.count]
            #expect(answers["poison-\(index)"]?.type == "trigger.rejected", "\(poison.name)")
            #expect(answers["poison-\(index)"]?.reason == poison.reason, "\(poison.name)")
        }
        #expect(try await stack.count("SELECT count(*)::int8 FROM runs") == validCount)

        // Every bad one is in the dead-letter queue with its reason.
        var deadLetters: [String: String] = [:]
        var headersDropped: Set<String> = []
        var deadLetterErrors: [String: String] = [:]
        let deadDeadline = ContinuousClock.now + .seconds(30)
        while deadLetters.count < count, ContinuousClock.now < deadDeadline {
            guard let delivery = try await stack.channel.get(queue: "keel.dead.keel.triggers") else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            try await stack.channel.ack(delivery)
            let id = (delivery.properties.correlationID ?? "?").replacingOccurrences(of: "\u{FFFD}", with: "")
            deadLetters[id] = delivery.properties.headers["keel-reason"]?.stringValue ?? "-"
            if delivery.properties.headers["keel-headers-dropped"] != nil { headersDropped.insert(id) }
            deadLetterErrors[id] = delivery.properties.headers["keel-error"]?.stringValue
        }
        #expect(deadLetters.count == count)
        for index in 0..<count {
            let poison = Self.poisons[index % Self.poisons.count]
            #expect(
                deadLetters["poison-\(index)"] == (poison.deadLetterReason ?? poison.reason), "\(poison.name)"
            )
            // Headers too big to copy beside Keel's reason are replaced by their size.
            #expect(
                headersDropped.contains("poison-\(index)") == (poison.headers["x-pad"] != nil),
                "\(poison.name)")
            if poison.headers["keel-schema"] != nil {
                #expect(
                    deadLetterErrors["poison-\(index)"]?.contains("contract version keel-schema '2'") == true,
                    "\(String(describing: deadLetterErrors["poison-\(index)"]))")
            }
        }

        let residentAfter = try #require(stack.service.residentBytes)
        let growth = residentAfter - residentBefore
        print(
            "hostile triggers: \(count) bad + \(validCount) valid answered in \(elapsed); trigger-intake RSS "
                + "\(residentBefore >> 20) MiB before, \(residentAfter >> 20) MiB after")
        #expect(growth < 64 << 20, "trigger-intake grew by \(growth >> 20) MiB")
        if let dump = TestEnvironment.value("KEEL_TEST_DUMP_LOGS") {
            try stack.service.output.write(toFile: dump, atomically: true, encoding: .utf8)
        }
        try await stack.stop()
    }
}
