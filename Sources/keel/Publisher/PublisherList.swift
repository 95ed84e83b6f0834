import ArgumentParser
import Foundation
import KeelStore

/// `keel publisher list`: the broker accounts mapped to principals.
struct PublisherList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the trigger publishers' broker accounts and their principals.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let publishers = try await database.withPool { try await PublisherStore(pool: $0).list() }
        database.output.emit(publishers) {
            guard !publishers.isEmpty else {
                return "no publishers yet; add one with keel publisher add NAME"
            }
            return TextTable.render(
                header: ["ACCOUNT", "PRINCIPAL", "VHOST", "CREATED"],
                rows: publishers.map {
                    [
                        $0.brokerUser, $0.principal, $0.vhost,
                        $0.createdAt.formatted(.iso8601) + " by " + $0.createdBy,
                    ]
                })
        }
    }
}
