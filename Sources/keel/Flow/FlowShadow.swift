import ArgumentParser
import KeelCore
import KeelStore

/// `keel flow shadow NAME --version N`: what a version would do with the inputs and results of recent
/// runs, before it goes live, without doing anything.
struct FlowShadow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "Replay recent runs against a version without side effects and report what would differ.",
        discussion: """
            Each recorded run is replayed through the run engine over version N with its recorded \
            input, results, callbacks and decisions. A step is answered from the record only when it \
            renders exactly as it did in the run (secrets stay placeholders: «secret:NAME»); a step \
            that is new or renders differently is not executed, and what needs it is not reached. \
            Nothing is started, published or written. Differences in steps whose definition did not \
            change are "unexplained" (`keel flow release --require-shadow` refuses them). Exits 0 \
            with a report, 1 when there are no recorded runs to shadow. See docs/flows.md, "Shadow runs".
            """)

    @Argument(help: "The flow's name.") var name: String
    @Option(help: "The version to shadow (normally a draft).") var version: Int
    @Option(help: "How many of the most recent finished runs of other versions to replay.")
    var runs: Int = ShadowRuns.defaultRunCount
    @Option(name: .customLong("run"), help: "Replay this run (repeatable); replaces --runs.")
    var runIDs: [String] = []
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (1...500).contains(runs) else { throw ValidationError("--runs must be between 1 and 500") }
    }

    func run() async throws {
        let ids = try runIDs.map(RunID.named)
        let report = try await database.withPool { pool in
            try await ShadowRuns(pool: pool).report(flow: name, version: version, count: runs, runIDs: ids)
        }
        guard !report.runs.isEmpty else {
            throw database.output.fail(.user(ShadowReportText.noRuns(flow: name, version: version)))
        }
        database.output.emit(report) { ShadowReportText.render(report) }
    }
}
