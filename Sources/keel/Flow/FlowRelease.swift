import ArgumentParser
import Foundation
import KeelStore
import PGClient

/// `keel flow release NAME [--version N]`: makes a version live for new triggers.
struct FlowRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Make a version live (the newest by default); recorded with who and why.",
        discussion: """
            Releasing the version that is already live changes nothing and exits 0 ("unchanged"). With \
            an API token (KEEL_API_TOKEN or --api-token) it goes through the operators' API as the \
            token's holder, who must be an admin.

            With --require-shadow the version is first shadowed over the flow's 20 most recent \
            finished runs of other versions (`keel flow shadow`); when a step whose definition did not \
            change would behave differently (an unexplained difference), the report is printed and the \
            release refused (exit 1). With no recorded runs to shadow it is refused too. \
            --require-shadow reads the database directly and is refused with an API token.
            """)

    @Argument(help: "The flow's name.") var name: String
    @Option(help: "The version to release (default: the newest).") var version: Int?
    @Option(help: "Why, recorded with the release.") var reason: String?
    @Flag(help: "Refuse unless a shadow of recent runs finds no unexplained difference.")
    var requireShadow = false
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    /// Releasing the version already live changes nothing and succeeds: deploy scripts release what
    /// they pushed, whether or not it changed.
    struct Unchanged: Encodable {
        var flow: String
        var liveVersion: Int
        var unchanged = true
    }

    func run() async throws {
        if let connection = try database.output.failing({ try api.connection() }) {
            if requireShadow {
                throw database.output.fail(
                    .user(
                        "--require-shadow reads the recorded runs from the database, which the operators' API "
                            + "does not offer: release without an API token (with --database-url), or run "
                            + "`keel flow shadow` and release without --require-shadow"))
            }
            let result = try await database.output.failing {
                try await connection.call { client in
                    try await client.releaseFlow(
                        path: .init(flow: name), body: .json(.init(version: version, reason: reason))
                    ).ok.body.json
                }
            }
            OperatorAPIOutput.emit(result, json: database.json) {
                result.unchanged
                    ? "\(name): v\(result.liveVersion) is already live; nothing changed"
                    : "\(name): v\(result.liveVersion) is live (was \(result.release?.fromVersion.map { "v\($0)" } ?? "none"))"
            }
            return
        }
        let outcome: Result<FlowReleaseRecord, FlowStoreError> = try await database.withPool { pool in
            if requireShadow { try await shadowFirst(pool) }
            do {
                return .success(
                    try await FlowStore(pool: pool).release(
                        flow: name, version: version, actor: actor.resolved, reason: reason))
            } catch let error as FlowStoreError {
                guard case .alreadyLive = error else { throw error }
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let record):
            database.output.emit(record) {
                "\(name): v\(record.toVersion) is live (was \(record.fromVersion.map { "v\($0)" } ?? "none"))"
            }
        case .failure(.alreadyLive(_, let live)):
            database.output.emit(Unchanged(flow: name, liveVersion: live)) {
                "\(name): v\(live) is already live; nothing changed"
            }
        case .failure(let error):
            throw database.output.fail(CLIFailure.from(error))
        }
    }
}

extension FlowRelease {
    /// Shadows the version about to be released; throws the exit code after printing the report when
    /// it finds an unexplained difference, or when there is nothing recorded to shadow.
    private func shadowFirst(_ pool: PGPool) async throws {
        let store = FlowStore(pool: pool)
        let number: Int
        if let version {
            number = version
        } else {
            guard let newest = try await store.versions(flow: name).last?.version else {
                throw FlowStoreError.unknownFlow(name)
            }
            number = newest
        }
        let report = try await ShadowRuns(pool: pool).report(flow: name, version: number)
        guard !report.runs.isEmpty else {
            throw database.output.fail(
                .user(
                    ShadowReportText.noRuns(flow: name, version: number)
                        + "; --require-shadow refuses to release without one"))
        }
        guard report.hasUnexplainedDifferences else {
            if !database.json {
                print(
                    "shadow of v\(number) over \(report.runs.count) runs: \(report.runsWithDifferences) with "
                        + "differences, none unexplained")
            }
            return
        }
        let refusal =
            "refusing to release \(name) v\(number): \(report.runsWithUnexplainedDifferences) of "
            + "\(report.runs.count) shadowed runs show unexplained differences (see the report)"
        // One JSON document on standard output, the report; the refusal goes to standard error.
        database.output.emit(report) { ShadowReportText.render(report) }
        FileHandle.standardError.write(Data(("keel: " + refusal + "\n").utf8))
        throw ExitCode(1)
    }
}

/// `keel flow rollback NAME`: undoes the latest release still in effect.
struct FlowRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Re-release the version that was live before the current one.")

    @Argument(help: "The flow's name.") var name: String
    @Option(help: "Why, recorded with the rollback.") var reason: String?
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: OperatorAPIOptions

    func run() async throws {
        if let connection = try database.output.failing({ try api.connection() }) {
            let result = try await database.output.failing {
                try await connection.call { client in
                    try await client.rollbackFlow(path: .init(flow: name), body: .json(.init(reason: reason)))
                        .ok
                        .body.json
                }
            }
            OperatorAPIOutput.emit(result, json: database.json) {
                "\(name): rolled back from v\(result.release?.fromVersion.map(String.init) ?? "?") to v\(result.liveVersion)"
            }
            return
        }
        let record = try await database.withPool { pool in
            try await FlowStore(pool: pool).rollback(flow: name, actor: actor.resolved, reason: reason)
        }
        database.output.emit(record) {
            "\(name): rolled back from v\(record.fromVersion.map(String.init) ?? "?") to v\(record.toVersion)"
        }
    }
}
