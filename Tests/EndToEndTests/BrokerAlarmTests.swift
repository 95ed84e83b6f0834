import AMQPClient
import Foundation
import KeelBus
import KeelTestSupport
import Logging
import PGClient
import Testing

/// A broker resource alarm (memory or disk) blocks every connection that publishes. A service that
/// consumed and published on one connection then stopped acking too, so its consumers stalled at their
/// prefetch; with a connection for each, triggers keep becoming runs during the alarm and only the
/// answers wait. The alarm is the whole broker's, so this suite runs alone with the disruptive ones
/// (scripts/test runs `*BrokerAlarm*` after everything else).
@Suite(.serialized) struct BrokerAlarmTests: KeelCLITesting {
    @Test func triggersBecomeRunsDuringAMemoryAlarmAndTheirAnswersFollowIt() async throws {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        let file = try temporaryFile(TriggerIntakeTests.flow)
        #expect(try await keel(["flow", "push", file], database: database).status == 0)
        #expect(try await keel(["flow", "release", "intake-demo"], database: database).status == 0)
        let vhost = try await TestVirtualHost.create()
        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: vhost.url), logger: Logger(label: "test"))
        let channel = try await connection.openChannel()
        try await channel.enablePublisherConfirms()
        try await KeelTopology.triggerIntake.declare(on: channel)
        let replies = "replies-\(UUID().uuidString)"
        try await channel.declareQueue(replies, durable: false, exclusive: false, autoDelete: false)

        // Ten triggers wait in the queue, five times the service's prefetch.
        let count = 10
        for index in 0..<count {
            try await channel.publish(
                Array(#"{"flow": "intake-demo", "input": {"task": "t\#(index)"}}"#.utf8),
                exchange: "keel.triggers", routingKey: "intake-demo",
                properties: AMQPProperties(
                    contentType: "application/json", correlationID: "alarm-\(index)", replyTo: replies,
                    messageID: "alarm-\(index)"),
                mandatory: true)
        }

        _ = try await TestEnvironment.runScript(
            "scripts/servers/rabbitmqctl", "set_vm_memory_high_watermark", "absolute", "1")
        let pool = try database.pool(size: 2)
        let port = TestHTTP.freePort()
        let service = try ServiceProcess(
            "trigger-intake",
            environment: [
                "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": vhost.url, "KEEL_HTTP_PORT": "\(port)",
                "KEEL_AMQP_PREFETCH": "2",
            ])
        var runsDuringAlarm = 0
        do {
            let deadline = ContinuousClock.now + .seconds(30)
            while runsDuringAlarm < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                runsDuringAlarm = try await pool.withConnection {
                    try await $0.query("SELECT count(*)::int8 FROM runs").first?.decode((Int).self) ?? 0
                }
            }
        } catch {
            Issue.record("\(error)")
        }
        // Whatever happened, the broker's alarm ends here.
        _ = try await TestEnvironment.runScript(
            "scripts/servers/rabbitmqctl", "set_vm_memory_high_watermark", "0.4")
        #expect(
            runsDuringAlarm == count,
            "only \(runsDuringAlarm) of \(count) runs during the alarm:\n\(service.output)")

        // Once the alarm ends, the answers held in the outbox go out.
        var answered = Set<String>()
        let deadline = ContinuousClock.now + .seconds(60)
        while answered.count < count, ContinuousClock.now < deadline {
            if let delivery = try await channel.get(queue: replies) {
                try await channel.ack(delivery)
                answered.insert(delivery.properties.correlationID ?? "?")
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(
            answered.count == count,
            "\(answered.count) of \(count) answered after the alarm:\n\(service.output)")

        try await channel.deleteQueue(replies)
        try await channel.close()
        await connection.close()
        #expect(await service.stop() == 0)
        await pool.close()
        try await vhost.delete()
        try await database.drop()
    }
}
