import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel flow show NAME [--version N]`: one version's source and identity (the live one by default).
struct FlowShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a flow version's YAML, hash and author (the live release by default).")

    @Argument(help: "The flow's name.") var name: String
    @Option(help: "The version to show (default: the live release, else the newest).") var version: Int?
    @OptionGroup var database: DatabaseOptions

    struct Report: Encodable {
        var version: FlowVersionRecord
        var live: Bool
        var releases: [FlowReleaseRecord]
        /// Secret names the version reads (`${{ secrets.NAME }}`), never their values.
        var secrets: [String]
        /// The live release's schedules with their next ticks (empty for a version that is not live).
        var schedules: [ScheduleLine]
    }

    func run() async throws {
        let report = try await database.withPool { pool in
            let store = FlowStore(pool: pool)
            let summary = try await store.list().first { $0.name == name }
            guard let summary else { throw FlowStoreError.unknownFlow(name) }
            let number = version ?? summary.liveVersion ?? summary.latestVersion
            let record = try await store.version(flow: name, number: number)
            let definition = try FlowDefinition(canonicalJSON: JSONValue(parsing: record.definition))
            let live = number == summary.liveVersion
            let schedules =
                live ? try await ScheduleStore(pool: pool).list(flow: name).map(ScheduleLine.init) : []
            return Report(
                version: record, live: live,
                releases: try await store.releases(flow: name), secrets: definition.secretNames,
                schedules: schedules)
        }
        database.output.emit(report) {
            let record = report.version
            var lines = [
                "flow:    \(record.flow)",
                "version: v\(record.version)\(report.live ? " (live)" : "")",
                "sha256:  \(record.sha256)",
                "author:  \(record.author), \(record.createdAt.formatted(.iso8601))",
                "secrets: \(report.secrets.isEmpty ? "none" : report.secrets.joined(separator: ", "))",
            ]
            for schedule in report.schedules {
                lines.append("schedule \(schedule.id): \(schedule.when), next \(schedule.nextText)")
            }
            lines += ["", record.source]
            if !report.releases.isEmpty {
                lines.append("releases:")
                lines += report.releases.map { release in
                    "  \(release.createdAt.formatted(.iso8601)) \(release.kind.rawValue) "
                        + "\(release.fromVersion.map { "v\($0)" } ?? "-") -> v\(release.toVersion) by \(release.actor)"
                        + (release.reason.map { ": \($0)" } ?? "")
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
