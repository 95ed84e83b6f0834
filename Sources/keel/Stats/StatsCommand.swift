import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel stats [--flow F] [--since 24h]`: how runs went, computed from their history.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract:
            "Show run statistics: success rate, error classes, retries, latencies, adoption and recovery.",
        discussion: """
            Folds the history of every run created in the window (and the releases and rollbacks made \
            in it) into the figures defined in docs/cli.md: outcomes and success rate, attempts by \
            error class, retries, step duration, queue time, wait and approval turnaround percentiles, \
            runs and rollbacks per flow version, and time to recover after a failed run.
            """)

    @Option(help: "Only runs and releases of this flow.") var flow: String?
    @Option(help: "The window: runs created at most this long ago (1h, 24h, 7d, 1h30m).")
    var since = "24h"
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let window = FlowDuration(parsing: since) else {
            throw database.output.fail(.user("--since \(since): expected a duration such as 1h, 24h or 7d"))
        }
        let start = Timestamp.now.adding(milliseconds: -window.milliseconds)
        let statistics = try await database.withPool { pool in
            let runs = try await RunStore(pool: pool).storedRuns(since: start.date, flow: flow)
            let releases = try await FlowStore(pool: pool).releases(since: start.date, flow: flow)
            let timelines = try runs.map { run in
                do {
                    return try run.timeline()
                } catch {
                    throw CLIFailure.infrastructure("a run's history: \(error)")
                }
            }
            return RunStatistics(runs: timelines, releases: releases.map(FlowReleaseEvent.init))
        }
        let report = StatsReport(flow: flow, since: start, statistics: statistics)
        database.output.emit(report) { StatsText.render(report) }
    }
}

/// The `keel stats --json` document: the window and its figures.
struct StatsReport: Encodable {
    /// Nil for every flow.
    var flow: String?
    var since: Timestamp
    var statistics: RunStatistics

    private enum Key: String, CodingKey { case flow, since, statistics }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(since, forKey: .since)
        try container.encode(statistics, forKey: .statistics)
    }
}

extension FlowReleaseEvent {
    init(_ record: FlowReleaseRecord) {
        self.init(
            flow: record.flow, fromVersion: record.fromVersion, toVersion: record.toVersion,
            kind: record.kind == .rollback ? .rollback : .release, at: Timestamp(record.createdAt))
    }
}
