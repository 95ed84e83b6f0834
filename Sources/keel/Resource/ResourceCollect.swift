import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel resource gc --older-than 30d [--dry-run]`: applies retention.
struct ResourceCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove resources of runs finished before the cutoff, then content nothing names any more.",
        discussion: """
            Removes resources of runs that finished more than --older-than ago, and resources belonging to no \
            run that are older than that, except those put with --keep; then deletes content no resource \
            names. Content a running run refers to is never removed. Staging left by killed uploads older \
            than --abandoned-after is removed too.
            """)

    @Option(help: "Age cutoff, e.g. 30d, 12h (default 30d).") var olderThan = "30d"
    @Option(help: "Age after which a never-finished upload's staging is removed (default 1d).")
    var abandonedAfter = "1d"
    @Flag(help: "Report what would be removed without removing anything.") var dryRun = false
    @OptionGroup var options: ResourceOptions

    func run() async throws {
        guard let age = FlowDuration(parsing: olderThan) else {
            throw options.output.fail(.user("--older-than \(olderThan): expected a duration like 30d or 12h"))
        }
        guard let abandoned = FlowDuration(parsing: abandonedAfter) else {
            throw options.output.fail(
                .user("--abandoned-after \(abandonedAfter): expected a duration like 1d"))
        }
        let now = Date()
        let report = try await options.withStore { store in
            try await store.collect(
                finishedBefore: now.addingTimeInterval(-Double(age.milliseconds) / 1000), dryRun: dryRun,
                abandonedUploadsBefore: now.addingTimeInterval(-Double(abandoned.milliseconds) / 1000))
        }
        options.output.emit(report) {
            (report.dryRun ? "would remove " : "removed ")
                + "\(report.resources) resources and \(report.contents) contents (\(report.bytes) bytes)"
                + (report.dryRun ? "" : ", \(report.abandonedUploads) abandoned uploads")
        }
    }
}
