import ArgumentParser
import KeelCore
import KeelStore

/// `keel flow diff NAME A B`: what changed between two versions, as a unified diff of their YAML.
struct FlowDiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show a unified diff of two versions' YAML.")

    @Argument(help: "The flow's name.") var name: String
    @Argument(help: "The older version.") var from: Int
    @Argument(help: "The newer version.") var to: Int
    @OptionGroup var database: DatabaseOptions

    struct Report: Encodable {
        var flow: String
        var from: Int
        var to: Int
        /// Whether the canonical forms differ; formatting-only edits give false.
        var semanticallyDifferent: Bool
        var diff: String
    }

    func run() async throws {
        let (old, new) = try await database.withPool { pool in
            let store = FlowStore(pool: pool)
            return (
                try await store.version(flow: name, number: from),
                try await store.version(flow: name, number: to)
            )
        }
        let diff = LineDiff.unified(
            old: old.source, new: new.source, oldLabel: "\(name) v\(from)", newLabel: "\(name) v\(to)")
        let report = Report(
            flow: name, from: from, to: to, semanticallyDifferent: old.sha256 != new.sha256, diff: diff)
        database.output.emit(report) { diff.isEmpty ? "v\(from) and v\(to) have the same source" : diff }
    }
}
