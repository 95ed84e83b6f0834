import AMQPClient
import ArgumentParser
import KeelCore
import KeelStore

/// `keel publisher trust NAME`: lets one broker account start runs for principals it names — the
/// approval-service's, which publishes the triggers of the people its API authenticated.
struct PublisherTrust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Let a broker account start runs for others (the approval-service's account).",
        discussion: """
            Triggers carry their requester in the broker-checked user-id property. The approval-service \
            starts runs for the people its API authenticates (POST /v1/runs), so it names them in a \
            keel-requester header; trigger-intake believes that header only from an account trusted here \
            and refuses it from any other. Trust only the account the approval-service logs in with \
            (its KEEL_AMQP_URL's user). The account keeps its own principal, amqp:NAME, for triggers \
            that name nobody.
            """)

    @Argument(help: "The broker account's name (the approval-service's AMQP user).") var name: String
    @Option(help: "The virtual host (default: the one in KEEL_AMQP_URL).") var vhost: String?
    @OptionGroup var database: DatabaseOptions

    struct Trusted: Encodable {
        var brokerUser: String
        var actsForOthers = true
    }

    func run() async throws {
        guard PrincipalName.isValid(name) else {
            throw database.output.fail(.user("NAME \(name): expected letters, digits and . _ @ -"))
        }
        let amqpURL = CLISettings().value(
            "KEEL_AMQP_URL", flag: nil, default: "amqp://keel:keel@127.0.0.1:5672/keel")
        let vhost = try vhost ?? AMQPConfiguration(url: amqpURL).vhost
        let createdBy = CLISettings().value("USER", flag: nil, default: "cli")
        try await database.withPool {
            try await PublisherStore(pool: $0).trust(brokerUser: name, vhost: vhost, createdBy: createdBy)
        }
        database.output.emit(Trusted(brokerUser: name)) {
            "\(name) may start runs for the principals it names (keel-requester)"
        }
    }
}
