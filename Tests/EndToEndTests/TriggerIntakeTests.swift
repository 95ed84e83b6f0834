import AMQPClient
import Foundation
import KeelBus
import KeelTestSupport
import Logging
import PGClient
import Testing

/// trigger-intake as deployed: the real executable, the real PostgreSQL and RabbitMQ, and triggers
/// published by a plain AMQP client exactly as DESIGN §4 describes them.
@Suite(.serialized) struct TriggerIntakeTests: KeelCLITesting {
    static let flow = """
        flow: intake-demo
        input:
          type: object
          required: [task]
          properties:
            task: {type: string, maxLength: 20}
            # Exponential for a backtracking matcher: the hostile-trigger table sends its worst input.
            label: {type: string, pattern: "^(a+)+$"}
        steps:
          - id: work
            noop: {}
        """

    /// A database with the demo flow released, a virtual host, and trigger-intake running on both.
    struct Stack {
        let database: TestDatabase
        let pool: PGPool
        let vhost: TestVirtualHost
        let service: ServiceProcess
        let port: Int
        let connection: AMQPConnection
        let channel: AMQPChannel
        let replies: String

        func stop() async throws {
            try await channel.close()
            await connection.close()
            let status = await service.stop()
            #expect(status == 0, "trigger-intake did not stop cleanly:\n\(service.output)")
            await pool.close()
            try await vhost.delete()
            try await database.drop()
        }

        /// Publishes a trigger as any AMQP client would; the body is raw bytes so malformed ones can be sent.
        func publish(
            _ body: String, routingKey: String = "intake-demo", messageID: String = UUID().uuidString
        )
            async throws
        {
            try await channel.publishRepublishingNacks(
                Array(body.utf8), exchange: "keel.triggers", routingKey: routingKey,
                properties: AMQPProperties(
                    contentType: "application/json",
                    headers: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
                    correlationID: "corr-\(messageID)", replyTo: replies, messageID: messageID))
        }

        /// The next message on `queue`, waiting up to 20 s.
        func next(from queue: String) async throws -> AMQPDelivery? {
            for _ in 0..<400 {
                if let delivery = try await channel.get(queue: queue) {
                    try await channel.ack(delivery)
                    return delivery
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        func reply() async throws -> [String: Any]? {
            guard let delivery = try await next(from: replies) else { return nil }
            return try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any]
        }

        func count(_ sql: String) async throws -> Int {
            try await pool.withConnection {
                try await $0.query(PGQuery(sql)).first?.decode((Int).self) ?? -1
            }
        }
    }

    func startStack() async throws -> Stack {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        let file = try temporaryFile(Self.flow)
        #expect(try await keel(["flow", "push", file], database: database).status == 0)
        #expect(try await keel(["flow", "release", "intake-demo"], database: database).status == 0)
        let vhost = try await TestVirtualHost.create()
        let port = TestHTTP.freePort()
        let service = try ServiceProcess(
            "trigger-intake",
            environment: [
                "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": vhost.url, "KEEL_HTTP_PORT": "\(port)",
            ])
        let ready = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/ready", status: 200)
        try #require(ready?.status == 200, "trigger-intake not ready:\n\(service.output)")
        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: vhost.url), logger: Logger(label: "test"))
        let channel = try await connection.openChannel()
        try await channel.enablePublisherConfirms()
        let replies = "replies-\(UUID().uuidString)"
        try await channel.declareQueue(replies, durable: false, exclusive: true, autoDelete: true)
        // Declaring is idempotent, so the test need not wait for the service to have done it.
        try await KeelTopology.triggerIntake.declare(on: channel)
        return Stack(
            database: database, pool: try database.pool(size: 2), vhost: vhost, service: service, port: port,
            connection: connection,
            channel: channel, replies: replies)
    }

    @Test func aValidTriggerBecomesOneRunAndARepeatReturnsIt() async throws {
        let stack = try await startStack()
        let body =
            #"{"flow": "intake-demo", "input": {"task": "fix bug"}, "idempotency_key": "k-1", "actor": "ana", "extra": 1}"#
        try await stack.publish(body)
        let accepted = try #require(try await stack.reply(), "no reply:\n\(stack.service.output)")
        #expect(accepted["type"] as? String == "run.accepted")
        #expect(accepted["duplicate"] as? Bool == false)
        #expect(accepted["version"] as? Int == 1)
        let runID = try #require(accepted["run_id"] as? String)
        #expect(runID.count == 36 && Array(runID)[14] == "7", "a UUIDv7")

        try await stack.publish(body)
        let repeated = try #require(try await stack.reply())
        #expect(repeated["duplicate"] as? Bool == true)
        #expect(repeated["run_id"] as? String == runID)

        #expect(try await stack.count("SELECT count(*)::int8 FROM runs") == 1)
        let row = try #require(
            try await stack.pool.withConnection {
                try await $0.query(
                    "SELECT actor, correlation_id, traceparent, input::text FROM runs WHERE id = \(UUID(uuidString: runID))"
                ).first
            })
        let (actor, correlationID, traceparent, input) = try row.decode(
            (String, String, String?, String).self)
        #expect(actor == "ana")
        #expect(correlationID.hasPrefix("corr-"))
        #expect(traceparent?.hasPrefix("00-0af76519") == true)
        #expect(input.contains("fix bug"))
        let fact = try #require(
            try await stack.pool.withConnection {
                try await $0.query(
                    "SELECT seq, kind, fact->>'run_id' FROM run_history WHERE run_id = \(UUID(uuidString: runID))"
                ).first
            })
        let (seq, kind, factRunID) = try fact.decode((Int, String, String).self)
        #expect(seq == 1)
        #expect(kind == "run.triggered")
        #expect(factRunID == runID)
        try await stack.stop()
    }

    @Test func invalidTriggersAreDeadLetteredWithTheirReasonRecordedAndAnswered() async throws {
        let stack = try await startStack()
        let cases: [(body: String, routingKey: String, reason: String, field: String?)] = [
            ("{not json", "intake-demo", "malformed_json", nil),
            (#"["flow"]"#, "intake-demo", "invalid_body", ""),
            (#"{"input": {}}"#, "intake-demo", "invalid_body", "flow"),
            (
                #"{"flow": "intake-demo", "idempotency_key": 7}"#, "intake-demo", "invalid_body",
                "idempotency_key"
            ),
            (#"{"flow": "no-such-flow"}"#, "no-such-flow", "unknown_flow", "flow"),
            (
                #"{"flow": "intake-demo", "draft": 9, "input": {"task": "x"}}"#, "intake-demo",
                "unknown_version", "draft"
            ),
            (
                #"{"flow": "intake-demo", "input": {"task": "far too long for the schema"}}"#, "intake-demo",
                "invalid_input", "input"
            ),
            (#"{"flow": "intake-demo", "input": {"task": "x"}}"#, "other-flow", "invalid_body", "flow"),
        ]
        for (index, testCase) in cases.enumerated() {
            let messageID = "bad-\(index)"
            try await stack.publish(testCase.body, routingKey: testCase.routingKey, messageID: messageID)
            let reply = try #require(
                try await stack.reply(), "no reply for case \(index):\n\(stack.service.output)")
            #expect(reply["type"] as? String == "trigger.rejected")
            #expect(reply["reason"] as? String == testCase.reason, "case \(index)")
            if let field = testCase.field {
                #expect(reply["field"] as? String == field, "case \(index)")
            }
            let message = try #require(reply["message"] as? String)
            #expect(!message.isEmpty)

            let dead = try #require(
                try await stack.next(from: "keel.dead.keel.triggers"), "no dead letter for case \(index)")
            #expect(String(decoding: dead.body, as: UTF8.self) == testCase.body)
            #expect(dead.properties.headers["keel-reason"]?.stringValue == testCase.reason)
            #expect(dead.properties.headers["keel-error"]?.stringValue == message)
            #expect(dead.properties.headers["keel-original-routing-key"]?.stringValue == testCase.routingKey)
        }
        let invalidInput = try #require(
            try await stack.pool.withConnection {
                try await $0.query("SELECT errors::text FROM trigger_rejections WHERE message_id = 'bad-6'")
                    .first
            })
        #expect(try invalidInput.decode((String).self).contains("maxLength"))

        // A redelivered rejection is recorded, dead-lettered and answered once.
        try await stack.publish(cases[0].body, messageID: "bad-0")
        try await Task.sleep(for: .seconds(1))
        #expect(try await stack.count("SELECT count(*)::int8 FROM trigger_rejections") == cases.count)
        #expect(try await stack.count("SELECT count(*)::int8 FROM runs") == 0)
        #expect(try await stack.channel.get(queue: "keel.dead.keel.triggers") == nil)
        #expect(try await stack.count("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL") == 0)

        // Operators see them in the metrics: every delivery handled, the repeat among them.
        let metrics = try #require(await TestHTTP.get("http://127.0.0.1:\(stack.port)/metrics"))
        #expect(metrics.body.contains("keel_triggers_total{outcome=\"rejected\"} \(cases.count + 1)"))
        #expect(metrics.body.contains("keel_triggers_total{outcome=\"accepted\"} 0"))
        #expect(metrics.body.contains("keel_outbox_published_total \(2 * cases.count)"))
        try await stack.stop()
    }

    @Test func keelRunStartPublishesATriggerAndPrintsTheAnswer() async throws {
        let stack = try await startStack()
        let amqp = ["KEEL_AMQP_URL": stack.vhost.url]
        let started = try await keel(
            [
                "run", "start", "intake-demo", "--input", #"{"task": "from the cli"}"#, "--key", "cli-1",
                "--json",
            ],
            environment: amqp)
        #expect(started.status == 0, "\(stack.service.output)")
        let answer = try #require(started.json as? [String: Any])
        #expect(answer["type"] as? String == "run.accepted")
        #expect(answer["duplicate"] as? Bool == false)
        let runID = try #require(answer["run_id"] as? String)

        let again = try await keel(
            [
                "run", "start", "intake-demo", "--input", #"{"task": "from the cli"}"#, "--key", "cli-1",
                "--json",
            ],
            environment: amqp)
        #expect((again.json as? [String: Any])?["run_id"] as? String == runID)
        #expect((again.json as? [String: Any])?["duplicate"] as? Bool == true)

        let file = try temporaryFile(#"{"task": 42}"#)
        let rejected = try await keel(
            ["run", "start", "intake-demo", "--input", "@" + file, "--json"], environment: amqp)
        #expect(rejected.status == 1)
        #expect((rejected.json as? [String: Any])?["reason"] as? String == "invalid_input")

        let malformed = try await keel(
            ["run", "start", "intake-demo", "--input", "{nope", "--json"], environment: amqp)
        #expect(malformed.status == 1)
        #expect(
            ((malformed.json as? [String: Any])?["error"] as? String)?.hasPrefix("--input: not valid JSON")
                == true)
        #expect(try await stack.count("SELECT count(*)::int8 FROM runs") == 1)
        #expect(try await stack.count("SELECT count(*)::int8 FROM trigger_rejections") == 1)

        // What operators and agents see of it.
        let listed = try await keel(
            ["run", "list", "--flow", "intake-demo", "--json"], database: stack.database)
        let runs = try #require(listed.json as? [[String: Any]])
        #expect(runs.map { $0["id"] as? String } == [runID])
        // No step-executor here: the run stays at its first step, scheduled.
        #expect(runs.first?["status"] as? String == "running")
        #expect(runs.first?["idempotencyKey"] as? String == "cli-1")
        #expect(runs.first?["actor"] as? String == "e2e-tester")
        let none = try await keel(["run", "list", "--flow", "other", "--json"], database: stack.database)
        #expect((none.json as? [Any])?.isEmpty == true)
        let badStatus = try await keel(
            ["run", "list", "--status", "done", "--json"], database: stack.database)
        #expect(badStatus.status == 1)

        let history = try await keel(["run", "history", runID, "--json"], database: stack.database)
        let facts = try #require(history.json as? [[String: Any]])
        #expect(facts.map { $0["seq"] as? Int } == [1, 2])
        #expect(
            facts.map { ($0["fact"] as? [String: Any])?["kind"] as? String } == [
                "run.triggered", "step.scheduled",
            ])
        let fact = try #require(facts.first?["fact"] as? [String: Any])
        #expect(fact["kind"] as? String == "run.triggered")
        #expect(fact["run_id"] as? String == runID)
        #expect((fact["input"] as? [String: Any])?["task"] as? String == "from the cli")
        let unknown = try await keel(
            ["run", "history", "00000000-0000-7000-8000-000000000000", "--json"], database: stack.database)
        #expect(unknown.status == 1)
        #expect((unknown.json as? [String: Any])?["kind"] as? String == "user")
        try await stack.stop()
    }
}
