import ArgumentParser
import Foundation
import KeelStore

/// `keel template list`: every template's newest version and what it asks for.
struct TemplateList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List templates with their newest version and parameters.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let templates = try await database.withPool { try await TemplateStore(pool: $0).list() }
        database.output.emit(templates) {
            guard !templates.isEmpty else {
                return "no templates yet; publish one with keel template publish FILE"
            }
            let rows = templates.map { template in
                [
                    template.name, "v\(template.version)",
                    template.parameters.map { $0.required ? $0.name : "[\($0.name)]" }.joined(separator: " "),
                    template.author,
                ]
            }
            return TextTable.render(header: ["TEMPLATE", "LATEST", "PARAMETERS", "AUTHOR"], rows: rows)
                + "\n[name]: has a default"
        }
    }
}
