import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

@testable import trigger_intake

/// What one trigger becomes, decided by trigger-intake's handler against a real PostgreSQL: deliveries are
/// built by hand (no broker), so each test says exactly which message arrived and checks the run, the
/// recorded refusal and the messages the handler left in the outbox.
@Suite struct TriggerHandlerTests {
    static let flow = """
        flow: handled
        input:
          type: object
          properties: {ticket: {type: string}}
          required: [ticket]
        steps:
          - id: first
            noop: {}
        """

    /// A migrated database with `handled` pushed and released, and the handler over it.
    func withHandler(_ body: (TriggerHandler, PGPool) async throws -> Void) async throws {
        try await withMigratedDatabase { pool in
            let flow = try FlowParser.parse(yaml: Self.flow, file: "handled.yaml")
            let flows = FlowStore(pool: pool)
            _ = try await flows.push(
                flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
                source: Self.flow, author: "test")
            _ = try await flows.release(flow: flow.name, version: 1, actor: "test")
            try await body(
                TriggerHandler(pool: pool, engine: EngineSettings(), logger: Logger(label: "test")), pool)
        }
    }

    func delivery(
        _ body: String, routingKey: String = "handled", messageID: String = UUID().uuidString,
        properties: AMQPProperties = AMQPProperties()
    ) -> AMQPDelivery {
        var properties = properties
        properties.messageID = messageID
        return AMQPDelivery(
            body: Array(body.utf8), properties: properties, exchange: "keel.triggers", routingKey: routingKey)
    }

    /// Messages the handler queued for the broker to `exchange` (the dead-letter exchange, say).
    func outboxCount(exchange: String, pool: PGPool) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query("SELECT count(*) FROM outbox WHERE exchange = \(exchange)")[0]
                .decode((Int).self)
        }
    }

    @Test("A valid trigger becomes a run of the live version, and its key given again finds that run")
    func validTriggerBecomesARun() async throws {
        try await withHandler { handler, pool in
            let body = #"{"flow": "handled", "input": {"ticket": "T-1"}, "idempotency_key": "k-1"}"#
            let first = try await handler.handle(delivery(body))
            guard case .accepted(let runID) = first else {
                Issue.record("expected a new run, got \(first)")
                return
            }
            let again = try await handler.handle(delivery(body))
            #expect(again == .duplicate(runID: runID))
            let runs = try await RunStore(pool: pool).list(flow: "handled")
            #expect(runs.map(\.id) == [runID])
            let history = try await RunStore(pool: pool).history(run: runID)
            #expect(history.map(\.entry.kind) == ["run.triggered", "step.scheduled"])
        }
    }

    @Test(
        "Bodies that are not a trigger are refused with a reason, recorded and dead-lettered",
        arguments: [
            ("not json", TriggerRejection.Reason.malformedJSON, nil as String?),
            (#"{"input": {}}"#, .invalidBody, "flow"),
            (#"{"flow": "handled", "input": {}}"#, .invalidInput, nil),
            (#"{"flow": "nobody", "input": {}}"#, .unknownFlow, "flow"),
            (#"{"flow": "handled", "input": {"ticket": "a\u0000b"}}"#, .unstorableValue, nil),
        ])
    func malformedBodiesAreRefused(body: String, reason: TriggerRejection.Reason, field: String?)
        async throws
    {
        try await withHandler { handler, pool in
            let messageID = UUID().uuidString
            let routingKey = body.contains("nobody") ? "nobody" : "handled"
            let outcome = try await handler.handle(
                delivery(body, routingKey: routingKey, messageID: messageID))
            #expect(outcome == .rejected(reason))
            let recorded = try #require(
                try await TriggerRejectionStore(pool: pool).find(messageID: messageID))
            #expect(recorded.reason == reason.rawValue)
            if let field { #expect(recorded.field == field) }
            #expect(try await outboxCount(exchange: "keel.dead-letters", pool: pool) == 1)
            #expect(try await RunStore(pool: pool).list(flow: "handled").isEmpty)
        }
    }

    @Test("A trigger whose routing key names another flow is refused naming the field")
    func routingKeyMustNameTheFlow() async throws {
        try await withHandler { handler, pool in
            let messageID = UUID().uuidString
            let outcome = try await handler.handle(
                delivery(
                    #"{"flow": "handled", "input": {"ticket": "T"}}"#, routingKey: "other",
                    messageID: messageID))
            #expect(outcome == .rejected(.invalidBody))
            let recorded = try #require(
                try await TriggerRejectionStore(pool: pool).find(messageID: messageID))
            #expect(recorded.field == "flow")
            #expect(recorded.message.contains("routing key 'other'"))
        }
    }

    @Test("A requester named by a publisher not trusted to act for others is refused")
    func untrustedPublisherCannotNameTheRequester() async throws {
        try await withHandler { handler, pool in
            let properties = AMQPProperties(
                headers: [OnBehalfOf.header: .string("alice")], userID: "some-agent")
            let outcome = try await handler.handle(
                delivery(#"{"flow": "handled", "input": {"ticket": "T"}}"#, properties: properties))
            #expect(outcome == .rejected(.invalidProperties))
            #expect(try await RunStore(pool: pool).list(flow: "handled").isEmpty)

            try await PublisherStore(pool: pool).trust(
                brokerUser: "some-agent", vhost: "/", createdBy: "test")
            let trusted = try await handler.handle(
                delivery(#"{"flow": "handled", "input": {"ticket": "T"}}"#, properties: properties))
            guard case .accepted(let runID) = trusted else {
                Issue.record("expected a run once the publisher is trusted, got \(trusted)")
                return
            }
            let run = try #require(
                try await RunStore(pool: pool).list(flow: "handled").first { $0.id == runID })
            #expect(run.requester == "alice")
        }
    }

    @Test("A correlation id holding U+0000 is refused naming the property, not stored")
    func unstorablePropertyIsRefused() async throws {
        try await withHandler { handler, pool in
            let messageID = UUID().uuidString
            let outcome = try await handler.handle(
                delivery(
                    #"{"flow": "handled", "input": {"ticket": "T"}}"#, messageID: messageID,
                    properties: AMQPProperties(correlationID: "a\u{0}b")))
            #expect(outcome == .rejected(.invalidProperties))
            let recorded = try #require(
                try await TriggerRejectionStore(pool: pool).find(messageID: messageID))
            #expect(recorded.field == "correlation_id")
        }
    }

    @Test("A body over the limit throws a permanent error and leaves nothing in the database")
    func oversizedBodyIsNotStored() async throws {
        try await withHandler { handler, pool in
            let padding = String(repeating: "x", count: TriggerRequest.maximumBodyBytes)
            let body = #"{"flow": "handled", "input": {"ticket": ""# + padding + #""}}"#
            let oversized = delivery(body)
            await #expect(throws: OversizeMessage.self) { try await handler.handle(oversized) }
            let recorded = try await TriggerRejectionStore(pool: pool).recent()
            let deadLetters = try await outboxCount(exchange: "keel.dead-letters", pool: pool)
            #expect(recorded.isEmpty)
            #expect(deadLetters == 0)
        }
    }
}
