import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel flow create NAME --from-template T --set k=v ...`: makes an ordinary draft from a template.
struct FlowCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a flow from a published template, stored as a draft version.",
        discussion: """
            Each --set NAME=VALUE gives one parameter. VALUE is read as JSON when it is valid JSON \
            (3, true, null, [1,2], {"a":1}, "quoted text"), else taken as a string (acme/api). \
            Parameters not given take their default; the values are checked against each parameter's \
            JSON Schema. The new version's YAML is an ordinary flow: 'keel flow show' prints it, and it \
            can be edited and pushed like any other.
            """)

    @Argument(help: "The new flow's name.") var name: String
    @Option(name: .customLong("from-template"), help: "The template's name.") var template: String
    @Option(name: .customLong("template-version"), help: "The template version (default: the newest).")
    var templateVersion: Int?
    @Option(name: .customLong("set"), help: ArgumentHelp("A parameter value.", valueName: "name=value"))
    var values: [String] = []
    @OptionGroup var actor: ActorOption
    @OptionGroup var database: DatabaseOptions

    struct Report: Encodable {
        var version: FlowVersionRecord
        var created: Bool
        var template: String
        var templateVersion: Int
        var values: [String: JSONValue]
    }

    func run() async throws {
        let given = try parsedValues()
        let report = try await database.withPool { pool in
            let record = try await TemplateStore(pool: pool).version(
                template: template, number: templateVersion)
            let label = "template \(record.name) v\(record.version)"
            let created: InstantiatedFlow
            switch Result(catching: { () throws(FlowErrors) in
                try FlowTemplate.parse(yaml: record.source, file: label).instantiate(
                    flow: name, values: given)
            }) {
            case .success(let flow): created = flow
            case .failure(let errors):
                throw CLIFailure.user(errors.map(\.description).joined(separator: "\n"))
            }
            let source =
                "# Created from \(label) (sha256 \(record.sha256.prefix(12))) by keel flow create.\n"
                + created.yaml
            let flow = created.definition
            let result = try await FlowStore(pool: pool).push(
                flow: flow.name, description: flow.description ?? "", canonicalJSON: flow.canonicalJSON,
                sha256: flow.contentHash, source: source, author: actor.resolved)
            return Report(
                version: result.version, created: result.created, template: record.name,
                templateVersion: record.version, values: created.values)
        }
        database.output.emit(report) {
            let version = report.version
            return report.created
                ? "\(version.flow): stored draft v\(version.version) from template \(report.template) v\(report.templateVersion) (sha256 \(version.sha256.prefix(12)))"
                : "\(version.flow): unchanged, v\(version.version) already holds this content"
        }
    }

    /// `--set` values: JSON when the text is JSON, else the text as a string.
    func parsedValues() throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for assignment in values {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw database.output.fail(
                    .user("--set \(assignment): expected NAME=VALUE (for example --set repo=acme/api)"))
            }
            let key = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            guard result[key] == nil else {
                throw database.output.fail(.user("--set \(key): given more than once"))
            }
            result[key] = (try? JSONValue(parsing: text)) ?? .string(text)
        }
        return result
    }
}
