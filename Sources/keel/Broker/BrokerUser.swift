import AMQPClient
import ArgumentParser
import KeelStore
import Foundation
import KeelBus
import KeelCore

/// `keel broker user NAME --service S`: a service's broker user with only its own permissions.
struct BrokerUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create or update a service's broker user and set its permissions; print its URL.",
        discussion: """
            The password is read from --password-file, or generated and printed once, inside the AMQP \
            URL. It reaches rabbitmqctl on standard input only. An existing user gets the new password \
            (rotation) and the permissions again.
            """)

    @Argument(help: "The broker user's name.") var name: String
    @Option(
        help: "The service: \(BrokerPermissions.Service.allCases.map(\.rawValue).joined(separator: ", ")).")
    var service: String
    @Option(help: "A file holding the password (one line); default: generate one.") var passwordFile: String?
    @Option(help: "The virtual host (default: the one in KEEL_AMQP_URL).") var vhost: String?
    @Option(help: "AMQP URL whose host, port and vhost the printed URL uses (default: KEEL_AMQP_URL).")
    var amqpURL: String?
    @Option(help: "The rabbitmqctl command (default: KEEL_RABBITMQCTL, then rabbitmqctl).")
    var rabbitmqctl: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    struct Granted: Encodable {
        var user: String
        var service: String
        var vhost: String
        var configure: String
        var write: String
        var read: String
        /// Only when the password was generated.
        var url: String?
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        guard let service = BrokerPermissions.Service(rawValue: service) else {
            throw output.fail(
                .user(
                    "--service \(service): expected one of "
                        + BrokerPermissions.Service.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        guard PrincipalName.isValid(name) else {
            throw output.fail(.user("NAME \(name): expected letters, digits and . _ @ - , at most 128"))
        }
        let base = try AMQPConfiguration(
            url: CLISettings().value(
                "KEEL_AMQP_URL", flag: amqpURL, default: "amqp://keel:keel@127.0.0.1:5672/keel"))
        let vhost = vhost ?? base.vhost
        let credential = try CredentialPassword.resolve(file: passwordFile, output: output)
        let (password, generated) = (credential.value, credential.generated)
        let permissions = BrokerPermissions.of(service)
        let broker = BrokerAdministration(flag: rabbitmqctl)
        do {
            let users = try await broker.run(["list_users", "--no-table-headers"])
            let exists = users.split(separator: "\n").contains {
                $0.split(separator: "\t").first.map(String.init) == name
            }
            try await broker.run([exists ? "change_password" : "add_user", name], input: password)
            try await broker.run(
                [
                    "set_permissions", "-p", vhost, name, permissions.configure, permissions.write,
                    permissions.read,
                ])
        } catch let failure as BrokerAdministration.Failure {
            throw output.fail(.infrastructure("cannot set up broker user '\(name)': \(failure)"))
        }
        var url: String?
        if generated {
            let escapedVhost = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost
            url = "amqp://\(name):\(password)@\(base.host):\(base.port)/\(escapedVhost)"
        }
        output.emit(
            Granted(
                user: name, service: service.rawValue, vhost: vhost, configure: permissions.configure,
                write: permissions.write, read: permissions.read, url: url)
        ) {
            url.map { "\($0)\n(shown only once)" }
                ?? "broker user \(name) has the permissions of \(service.rawValue) on \(vhost)"
        }
    }
}
