import ArgumentParser
import Foundation
import KeelCore

/// `keel run cancel RUN --reason R`: asks the engine to cancel an unfinished run.
struct RunCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel an unfinished run: stop its running steps and finish it as cancelled.",
        discussion: """
            Adds run.cancel_requested (with --actor and --reason) to the run's history through the engine, \
            which cancels every unfinished step, stops attempts in flight, closes waits and approvals and \
            finishes the run as cancelled at once; results that arrive later are ignored. Prints the \
            run's timeline afterwards. Exit 1 for an unknown run or one that already finished. With an \
            API token (KEEL_API_TOKEN or --api-token) it goes through the operators' API as the token's \
            holder (role operator) and needs no database credentials.
            """)

    @Argument(help: "The run's id.") var runID: String
    @Option(help: "Why, as recorded in the run's history.") var reason: String
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    func run() async throws {
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw database.output.fail(.user("--reason: say why the run is cancelled"))
        }
        if let connection = try database.output.failing({ try api.connection() }) {
            // Through the API the token's holder is the actor; --actor is not believed there.
            let result = try await database.output.failing {
                try await connection.call { client in
                    try await client.cancelRun(path: .init(runID: runID), body: .json(.init(reason: reason)))
                        .ok.body
                        .json
                }
            }
            OperatorAPIOutput.emit(result, json: database.json) {
                "run \(runID): cancel requested through the API; now \(result.status.rawValue)"
            }
            return
        }
        let request = OperatorRequest.cancel(actor: actor.resolved, reason: reason)
        let result = try await database.withPool {
            try await OperatorRequestSubmission.submit(request, run: runID, pool: $0)
        }
        database.output.emit(result) {
            "run \(runID): cancel requested by \(actor.resolved); now \(result.run.status.rawValue)\n\n"
                + RunTimelineText.render(result.run)
        }
    }
}
