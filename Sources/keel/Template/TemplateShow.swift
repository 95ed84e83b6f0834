import ArgumentParser
import Foundation
import KeelStore

/// `keel template show NAME [--version N]`: a template version's parameters and source.
struct TemplateShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a template version's parameters and YAML (the newest by default).")

    @Argument(help: "The template's name.") var name: String
    @Option(help: "The version to show (default: the newest).") var version: Int?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let record = try await database.withPool {
            try await TemplateStore(pool: $0).version(template: name, number: version)
        }
        database.output.emit(record) {
            var lines = [
                "template: \(record.name)",
                "version:  v\(record.version)",
                "sha256:   \(record.sha256)",
                "author:   \(record.author), \(record.createdAt.formatted(.iso8601))",
                "parameters:",
            ]
            lines += record.parameters.map { parameter in
                "  \(parameter.name)  schema \(parameter.schema.jsonString())"
                    + (parameter.defaultValue.map { "  default \($0.jsonString())" } ?? "  (required)")
                    + (parameter.description.map { "  — \($0)" } ?? "")
            }
            return (lines + ["", record.source]).joined(separator: "\n")
        }
    }
}
