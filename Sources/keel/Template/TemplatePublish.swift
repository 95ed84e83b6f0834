import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel template publish FILE`: checks a template completely and stores it as a new version.
struct TemplatePublish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract:
            "Check a template file and store it as a new version (unchanged content returns the existing one)."
    )

    @Argument(help: "The template YAML file (template:, parameters:, then the flow's fields).") var file:
        String
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let source = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw database.output.fail(.user("\(file): cannot read the file as UTF-8 text"))
        }
        let template: FlowTemplate
        do {
            template = try FlowTemplate.parse(yaml: source, file: file)
        } catch {
            throw database.output.fail(.user(error.map(\.description).joined(separator: "\n")))
        }
        let result = try await database.withPool { pool in
            try await TemplateStore(pool: pool).publish(
                template: template.name, sha256: template.contentHash,
                parameters: template.parameters.map(TemplateParameterRecord.init),
                canonicalJSON: template.canonicalJSON, source: source, author: actor.resolved)
        }
        let record = result.template
        database.output.emit(result) {
            result.created
                ? "\(record.name): published v\(record.version) (sha256 \(record.sha256.prefix(12)))"
                : "\(record.name): unchanged, v\(record.version) already holds this content"
        }
    }
}

extension TemplateParameterRecord {
    init(_ parameter: TemplateParameter) {
        self.init(
            name: parameter.name, description: parameter.description, schema: parameter.schema,
            defaultValue: parameter.defaultValue)
    }
}
