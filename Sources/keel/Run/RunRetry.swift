import ArgumentParser
import KeelCore

/// `keel run retry RUN --from STEP`: runs a finished run again from one of its steps.
struct RunRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Run a finished run again from a step: it and everything downstream of it run anew.",
        discussion: """
            Adds run.retry_requested (the step, the run's current pass, --actor) to the run's history \
            through the engine. The step and every step that needs it, directly or not, go back to \
            pending and run again in the run's next pass (attempt numbers continue); other steps keep \
            their results, and the history keeps both passes. Prints the run's timeline afterwards. \
            Exit 1 for an unknown run, a run that has not finished, or a step the run's flow version \
            does not have. With an API token (KEEL_API_TOKEN or --api-token) it goes through the \
            operators' API as the token's holder (role operator).
            """)

    @Argument(help: "The run's id.") var runID: String
    @Option(name: .customLong("from"), help: "The step to run again, with everything downstream of it.")
    var step: String
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    func run() async throws {
        if let connection = try database.output.failing({ try api.connection() }) {
            let result = try await database.output.failing {
                try await connection.call { client in
                    try await client.retryRun(path: .init(runID: runID), body: .json(.init(fromStep: step)))
                        .ok
                        .body.json
                }
            }
            OperatorAPIOutput.emit(result, json: database.json) {
                "run \(runID): retry from \(step) requested through the API; now \(result.status.rawValue)"
            }
            return
        }
        let request = OperatorRequest.retry(fromStep: step, actor: actor.resolved)
        let result = try await database.withPool {
            try await OperatorRequestSubmission.submit(request, run: runID, pool: $0)
        }
        database.output.emit(result) {
            "run \(runID): retry from \(step) requested by \(actor.resolved); now pass \(result.run.pass), "
                + "\(result.run.status.rawValue)\n\n" + RunTimelineText.render(result.run)
        }
    }
}
