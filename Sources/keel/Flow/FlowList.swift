import ArgumentParser
import Foundation
import KeelStore

/// `keel flow list`: every flow with its live release and newest version.
struct FlowList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List flows with their live release and newest version.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let flows = try await database.withPool { try await FlowStore(pool: $0).list() }
        database.output.emit(flows) {
            guard !flows.isEmpty else { return "no flows yet; store one with keel flow push FILE" }
            let rows = flows.map { flow in
                [
                    flow.name, flow.liveVersion.map { "v\($0)" } ?? "-", "v\(flow.latestVersion)",
                    flow.description,
                ]
            }
            return TextTable.render(header: ["FLOW", "LIVE", "LATEST", "DESCRIPTION"], rows: rows)
        }
    }
}
