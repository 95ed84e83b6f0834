import AMQPClient
import Foundation
import KeelTestSupport
import Logging
import Testing

/// `keel publisher add|list|remove` against the real broker and database: the account it creates may
/// publish triggers and read its own reply queue, and nothing else, and cannot claim to be anyone else.
@Suite(.serialized) struct PublisherCLITests: KeelCLITesting {
    /// Runs `body` on a channel of the account `url`; returns the broker's refusal, if any.
    static func refusal(
        _ url: String, _ body: @Sendable (AMQPChannel) async throws -> Void
    ) async throws -> AMQPError? {
        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: url), logger: Logger(label: "test"))
        var refusal: AMQPError?
        do {
            let channel = try await connection.openChannel()
            try await channel.enablePublisherConfirms()
            try await body(channel)
        } catch let error as AMQPError {
            refusal = error
        }
        await connection.close()
        return refusal
    }

    @Test func aPublisherAccountMayPublishTriggersAndNothingElseAndOnlyAsItself() async throws {
        let stack = try await EngineStack(flows: [TriggerIntakeTests.flow])
        let url = try await stack.publisher(for: "ci-bot")
        let account = try AMQPConfiguration(url: url).user
        #expect(account.hasPrefix("ci-bot-"))

        let listed = try await keel(["publisher", "list", "--json"], database: stack.database)
        let publishers = try #require(listed.json as? [[String: Any]])
        #expect(
            publishers.contains {
                $0["brokerUser"] as? String == account && $0["principal"] as? String == "ci-bot"
            })

        // A trigger, with its own user-id, becomes a run whose requester is the principal.
        let accepted = try await Self.refusal(url) { channel in
            let replies = try await channel.declareQueue(
                "", durable: false, exclusive: true, autoDelete: true)
            try await channel.publish(
                Array(
                    #"{"flow": "intake-demo", "input": {"task": "t"}, "idempotency_key": "pub-1", "actor": "someone"}"#
                        .utf8),
                exchange: "keel.triggers", routingKey: "intake-demo",
                properties: AMQPProperties(replyTo: replies.name, userID: account), mandatory: true)
        }
        #expect(accepted == nil, "\(String(describing: accepted))")
        let run = try await stack.runID(key: "pub-1", flow: "intake-demo")
        let history = try await stack.history(run)
        guard case .runTriggered(let trigger)? = history.first?.event else {
            Issue.record("no run.triggered")
            return
        }
        #expect(trigger.requester == "ci-bot")
        #expect(trigger.actor == "someone")

        // Claiming another account's user-id is refused by the broker.
        let forged = try await Self.refusal(url) { channel in
            try await channel.publish(
                Array(#"{"flow": "intake-demo"}"#.utf8), exchange: "keel.triggers", routingKey: "intake-demo",
                properties: AMQPProperties(userID: "keel"), mandatory: true)
        }
        #expect(forged != nil, "a forged user-id was accepted")

        // Publishing anywhere else, or reading Keel's queues, is refused.
        let dispatch = try await Self.refusal(url) { channel in
            try await channel.publish(
                Array("{}".utf8), exchange: "keel.steps", routingKey: "default.0",
                properties: AMQPProperties(userID: account), mandatory: true)
        }
        #expect(dispatch != nil, "the publisher could write to keel.steps")
        let read = try await Self.refusal(url) { channel in
            _ = try await channel.get(queue: "keel.triggers")
        }
        #expect(read != nil, "the publisher could read keel.triggers")

        let removed = try await keel(["publisher", "remove", account], database: stack.database)
        #expect(removed.status == 0)
        await #expect(throws: (any Error).self) {
            _ = try await AMQPConnection.connect(
                try AMQPConfiguration(url: url), logger: Logger(label: "test"))
        }
        try await stack.stop()
    }
}
