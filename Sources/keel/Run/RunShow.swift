import ArgumentParser
import KeelCore
import KeelStore

/// `keel run show RUN`: the run's timeline, step by step.
struct RunShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract:
            "Show a run's timeline: its trigger, then each step's attempts, times, outcomes and errors.",
        discussion: """
            Times are offsets from the trigger (+1.250s); each attempt shows when it was scheduled, \
            started (and how long it queued), finished (and how long it ran), its error, the engine's \
            retry decision, and the resource references in its outputs. --json prints the timeline as \
            one document (shape in docs/cli.md). An unknown run is exit 1.
            """)

    @Argument(help: "The run's id.") var runID: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let timeline = try await database.withPool {
            try await LoadedRun.load(run: runID, pool: $0).timeline()
        }
        database.output.emit(timeline) { RunTimelineText.render(timeline) }
    }
}
