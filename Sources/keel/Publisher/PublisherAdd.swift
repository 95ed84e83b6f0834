import AMQPClient
import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel publisher add NAME [--principal P]`: a broker account that may publish triggers and nothing
/// else, for one principal; prints its AMQP URL once.
struct PublisherAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a broker account that may only publish triggers, and print its URL once.",
        discussion: """
            The account may publish to the keel.triggers exchange and declare and read its own \
            server-named reply queues (amq.gen-*), nothing else. Triggers it publishes with their user-id \
            property set to NAME (`keel run start` sets it) have PRINCIPAL as their requester, whom \
            separation of duties keeps from approving them. The password is generated, sent to \
            rabbitmqctl on standard input and printed once, inside the URL, on standard output. Exit 1 \
            when the account exists.
            """)

    @Argument(help: "The broker account's name.") var name: String
    @Option(help: "The Keel principal it publishes for (an approver's token name); default: NAME.")
    var principal: String?
    @Option(help: "The virtual host (default: the one in KEEL_AMQP_URL).") var vhost: String?
    @Option(help: "AMQP URL whose host, port and vhost the printed URL uses (default: KEEL_AMQP_URL).")
    var amqpURL: String?
    @Option(help: "The rabbitmqctl command (default: KEEL_RABBITMQCTL, then rabbitmqctl).")
    var rabbitmqctl: String?
    @OptionGroup var database: DatabaseOptions

    struct Created: Encodable {
        var url: String
        var publisher: Publisher
        var note = "shown only once: the broker keeps only a hash of the password"
    }

    func run() async throws {
        let output = database.output
        let principal = principal ?? name
        for (flag, value) in [("NAME", name), ("--principal", principal)] where !PrincipalName.isValid(value)
        {
            throw output.fail(
                .user(
                    "\(flag) \(value): expected letters, digits and . _ @ - (starting with a letter or digit), at most 128"
                ))
        }
        let base = try AMQPConfiguration(
            url: CLISettings().value(
                "KEEL_AMQP_URL", flag: amqpURL, default: "amqp://keel:keel@127.0.0.1:5672/keel"))
        let vhost = vhost ?? base.vhost
        var generator = SystemRandomNumberGenerator()
        let password = SecretBytes.base64URL(
            (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let broker = BrokerAdministration(flag: rabbitmqctl)
        do {
            try await broker.run(["add_user", name], input: password)
        } catch let failure as BrokerAdministration.Failure {
            throw output.fail(.user("cannot create broker account '\(name)': \(failure)"))
        }
        do {
            // configure, write, read: its own reply queues; the trigger exchange; its own reply queues.
            try await broker.run([
                "set_permissions", "-p", vhost, name, #"^amq\.gen-.*$"#, #"^keel\.triggers$"#,
                #"^amq\.gen-.*$"#,
            ])
        } catch {
            _ = try? await broker.run(["delete_user", name])
            throw output.fail(.infrastructure("cannot set the permissions of '\(name)': \(error)"))
        }
        let createdBy = CLISettings().value("USER", flag: nil, default: "cli")
        try await database.withPool {
            try await PublisherStore(pool: $0).add(
                brokerUser: name, principal: principal, vhost: vhost, createdBy: createdBy)
        }
        let escapedVhost = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost
        let url = "amqp://\(name):\(password)@\(base.host):\(base.port)/\(escapedVhost)"
        if database.json {
            output.emit(
                Created(
                    url: url,
                    publisher: Publisher(
                        brokerUser: name, principal: principal, vhost: vhost, createdBy: createdBy,
                        createdAt: Date()))
            ) { "" }
        } else {
            FileHandle.standardOutput.write(Data((url + "\n").utf8))
            FileHandle.standardError.write(
                Data(
                    ("keel: broker account '\(name)' publishes triggers for '\(principal)' on vhost '\(vhost)'; "
                        + "its URL is shown only once, store it now\n").utf8))
        }
    }
}
