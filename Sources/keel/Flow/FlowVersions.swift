import ArgumentParser
import Foundation
import KeelStore

/// `keel flow versions NAME`: every stored version, and which one is live.
struct FlowVersions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions", abstract: "List a flow's versions with their hashes, authors and times.")

    @Argument(help: "The flow's name.") var name: String
    @OptionGroup var database: DatabaseOptions

    struct Report: Encodable {
        var flow: String
        var liveVersion: Int?
        var versions: [Entry]
    }

    struct Entry: Encodable {
        var version: Int
        var sha256: String
        var author: String
        var createdAt: Date
        var live: Bool
    }

    func run() async throws {
        let (versions, live) = try await database.withPool { pool in
            let store = FlowStore(pool: pool)
            let versions = try await store.versions(flow: name)
            let live = try await store.list().first { $0.name == name }?.liveVersion
            return (versions, live)
        }
        let report = Report(
            flow: name, liveVersion: live,
            versions: versions.map {
                Entry(
                    version: $0.version, sha256: $0.sha256, author: $0.author, createdAt: $0.createdAt,
                    live: $0.version == live)
            })
        database.output.emit(report) {
            TextTable.render(
                header: ["VERSION", "LIVE", "SHA256", "AUTHOR", "CREATED"],
                rows: report.versions.map {
                    [
                        "v\($0.version)", $0.live ? "live" : "", String($0.sha256.prefix(12)), $0.author,
                        $0.createdAt.formatted(.iso8601),
                    ]
                })
        }
    }
}
