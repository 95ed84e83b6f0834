import ArgumentParser
import Foundation
import KeelStore

/// `keel run list [--flow F] [--status S]`: the newest runs.
struct RunList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List runs, newest first.")

    @Option(help: "Only runs of this flow.") var flow: String?
    @Option(help: "Only runs in this status: pending, running, waiting, succeeded, failed, cancelled.")
    var status: String?
    @Option(help: "At most this many runs.") var limit: Int = 50
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let statuses = ["pending", "running", "waiting", "succeeded", "failed", "cancelled"]
        if let status, !statuses.contains(status) {
            throw database.output.fail(
                .user("--status \(status): expected one of \(statuses.joined(separator: ", "))"))
        }
        let runs = try await database.withPool {
            try await RunStore(pool: $0).list(flow: flow, status: status, limit: limit)
        }
        database.output.emit(runs) {
            guard !runs.isEmpty else { return "no runs" }
            return TextTable.render(
                header: ["RUN", "FLOW", "VERSION", "STATUS", "ACTOR", "CREATED"],
                rows: runs.map {
                    [
                        $0.id.description, $0.flow, "v\($0.version)", $0.status, $0.actor,
                        $0.createdAt.formatted(.iso8601),
                    ]
                })
        }
    }
}
