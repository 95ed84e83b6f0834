import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel schedule ...`: the live releases' schedules.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "List, pause and resume the schedules of the flows' live releases.",
        discussion: """
            A flow declares its schedules (docs/flows.md#schedules); releasing a version makes its \
            schedules the live ones, and trigger-intake fires them. Pausing keeps a schedule from firing \
            until it is resumed (across releases, while its id stays); ticks while paused are not fired.
            """,
        subcommands: [ScheduleList.self, SchedulePause.self, ScheduleResume.self])
}

/// `keel schedule list [--flow F]`.
struct ScheduleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the live schedules with their next and last ticks.")

    @Option(help: "Only this flow's schedules.") var flow: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let lines = try await database.withPool { try await ScheduleStore(pool: $0).list(flow: flow) }
            .map(ScheduleLine.init)
        database.output.emit(lines) {
            guard !lines.isEmpty else { return "no schedules; a flow declares them under schedules:" }
            return TextTable.render(
                header: ["FLOW", "SCHEDULE", "WHEN", "NEXT", "LAST", "MISSED"],
                rows: lines.map {
                    [
                        $0.flow, $0.id, $0.when, $0.nextText,
                        $0.lastTickAt.map { FlowSchedule.tickText($0) } ?? "-",
                        $0.missed,
                    ]
                })
        }
    }
}

/// `keel schedule pause FLOW ID`.
struct SchedulePause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop a schedule from firing until it is resumed.")

    @Argument(help: "The flow.") var flow: String
    @Argument(help: "The schedule's id.") var id: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let line = try await database.withPool {
            ScheduleLine(try await ScheduleStore(pool: $0).setPaused(flow: flow, id: id, paused: true))
        }
        database.output.emit(line) { "paused schedule \(id) of \(flow)" }
    }
}

/// `keel schedule resume FLOW ID`.
struct ScheduleResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Let a paused schedule fire again, from its next tick after now.")

    @Argument(help: "The flow.") var flow: String
    @Argument(help: "The schedule's id.") var id: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let line = try await database.withPool {
            ScheduleLine(try await ScheduleStore(pool: $0).setPaused(flow: flow, id: id, paused: false))
        }
        database.output.emit(line) { "resumed schedule \(id) of \(flow); next tick \(line.nextText)" }
    }
}
