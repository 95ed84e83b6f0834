import ArgumentParser
import KeelStore

/// `keel flow push FILE`: stores the file as a draft version; unchanged content returns the existing one.
struct FlowPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Store a flow file as a new draft version (unchanged content returns the existing version)."
    )

    @Argument(help: "The flow YAML file.") var file: String
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let loaded = FlowValidate.load(file: file)
        guard let flow = loaded.flow, let source = loaded.source else {
            throw database.output.fail(.user(loaded.report.errorText))
        }
        let result = try await database.withPool { pool in
            try await FlowStore(pool: pool).push(
                flow: flow.name, description: flow.description ?? "", canonicalJSON: flow.canonicalJSON,
                sha256: flow.contentHash, source: source, author: actor.resolved)
        }
        database.output.emit(result) {
            result.created
                ? "\(flow.name): stored draft v\(result.version.version) (sha256 \(result.version.sha256.prefix(12)))"
                : "\(flow.name): unchanged, v\(result.version.version) already holds this content"
        }
    }
}
