import ArgumentParser
import Foundation
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
            one document (shape in docs/cli.md). --svg FILE also draws it as a picture: one row per step, one \
            bar per attempt, queued, running and waiting stretches coloured by outcome. An unknown run is \
            exit 1.
            """)

    @Argument(help: "The run's id.") var runID: String
    @Option(name: .customLong("svg"), help: "Also draw the timeline as an SVG picture into this file.")
    var svgFile: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let timeline = try await database.withPool { pool in
            var timeline = try await LoadedRun.load(run: runID, pool: pool).timeline()
            timeline.children = try await RunStore(pool: pool).children(of: timeline.runID)
            return timeline
        }
        if let svgFile {
            let picture = Data(RunTimelineSVG.render(timeline, now: .now).utf8)
            let file = URL(fileURLWithPath: svgFile)
            try await BlockingIO.run { try picture.write(to: file, options: .atomic) }
        }
        database.output.emit(timeline) { RunTimelineText.render(timeline) }
    }
}
