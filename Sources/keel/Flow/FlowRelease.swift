import ArgumentParser
import KeelStore

/// `keel flow release NAME [--version N]`: makes a version live for new triggers.
struct FlowRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Make a version live (the newest by default); recorded with who and why.")

    @Argument(help: "The flow's name.") var name: String
    @Option(help: "The version to release (default: the newest).") var version: Int?
    @Option(help: "Why, recorded with the release.") var reason: String?
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let record = try await database.withPool { pool in
            try await FlowStore(pool: pool).release(
                flow: name, version: version, actor: actor.resolved, reason: reason)
        }
        database.output.emit(record) {
            "\(name): v\(record.toVersion) is live (was \(record.fromVersion.map { "v\($0)" } ?? "none"))"
        }
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

    func run() async throws {
        let record = try await database.withPool { pool in
            try await FlowStore(pool: pool).rollback(flow: name, actor: actor.resolved, reason: reason)
        }
        database.output.emit(record) {
            "\(name): rolled back from v\(record.fromVersion.map(String.init) ?? "?") to v\(record.toVersion)"
        }
    }
}
