import ArgumentParser
import Foundation
import KeelStore

/// `keel publisher remove NAME`: deletes the broker account (closing its connections) and its mapping.
struct PublisherRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Delete a publisher's broker account and its mapping.")

    @Argument(help: "The broker account's name.") var name: String
    @Option(help: "The rabbitmqctl command (default: KEEL_RABBITMQCTL, then rabbitmqctl).")
    var rabbitmqctl: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let output = database.output
        let removed = try await database.withPool {
            try await PublisherStore(pool: $0).remove(brokerUser: name)
        }
        guard removed else { throw output.fail(.user("no publisher named '\(name)'")) }
        do {
            try await BrokerAdministration(flag: rabbitmqctl).run(["delete_user", name])
        } catch {
            throw output.fail(.infrastructure("the mapping is gone but the broker account is not: \(error)"))
        }
        output.emit(["removed": name]) { "removed publisher '\(name)'" }
    }
}
