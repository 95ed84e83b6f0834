import AMQPClient
import ArgumentParser
import KeelBus

/// `keel broker limits [--max-length N]`: the work queues' length limit, as a policy.
struct BrokerLimits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Limit the length of Keel's work queues; publishes beyond it are refused (nacked).",
        discussion: """
            Sets the policy keel-queue-limits on the virtual host: keel.triggers, keel.callbacks and \
            keel.steps.* hold at most --max-length ready messages, and a publish beyond that is nacked \
            (overflow reject-publish), so a flood waits where it came from (the outbox, a publisher's retry) \
            instead of filling the broker's memory. Dead-letter queues stay unlimited. Safe to run again; \
            it changes the limit of queues that exist.
            """)

    @Option(help: "The most messages a work queue holds (default \(QueueLimits.defaultMaxLength)).")
    var maxLength = QueueLimits.defaultMaxLength
    @Option(help: "The virtual host (default: the one in KEEL_AMQP_URL).") var vhost: String?
    @Option(help: "AMQP URL whose vhost is meant (default: KEEL_AMQP_URL).") var amqpURL: String?
    @Option(help: "The rabbitmqctl command (default: KEEL_RABBITMQCTL, then rabbitmqctl).")
    var rabbitmqctl: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    struct Applied: Encodable {
        var vhost: String
        var policy: String
        var pattern: String
        var maxLength: Int
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        guard (1...100_000_000).contains(maxLength) else {
            throw output.fail(.user("--max-length \(maxLength): expected 1 to 100000000"))
        }
        let base = try AMQPConfiguration(
            url: CLISettings().value(
                "KEEL_AMQP_URL", flag: amqpURL, default: "amqp://keel:keel@127.0.0.1:5672/keel"))
        let vhost = vhost ?? base.vhost
        let limits = QueueLimits(maxLength: maxLength)
        do {
            try await BrokerAdministration(flag: rabbitmqctl).run(limits.setPolicyArguments(vhost: vhost))
        } catch let failure as BrokerAdministration.Failure {
            throw output.fail(.infrastructure("cannot set the queue limits: \(failure)"))
        }
        output.emit(
            Applied(
                vhost: vhost, policy: QueueLimits.policyName, pattern: QueueLimits.pattern,
                maxLength: maxLength)
        ) {
            "work queues of \(vhost) hold at most \(maxLength) messages; publishes beyond are refused"
        }
    }
}
