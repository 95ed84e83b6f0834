import ArgumentParser
import Foundation
import KeelCore

/// `keel flow validate FILE...`: checks flow files without a server, reporting every problem at once.
struct FlowValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check flow files (no server needed); every problem is reported with file:line:column.")

    @Argument(help: "Flow YAML files.") var files: [String]
    @Flag(help: "Print one JSON document instead of text.") var json = false

    struct FileReport: Encodable {
        var file: String
        var valid: Bool
        var flow: String?
        var sha256: String?
        var errors: [ErrorEntry]
    }

    struct ErrorEntry: Encodable {
        var code: String
        var line: Int
        var column: Int
        var path: String
        var message: String
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        var reports: [FileReport] = []
        for file in files {
            reports.append(Self.check(file: file))
        }
        output.emit(reports) {
            reports.map { report in
                report.valid
                    ? "\(report.file): ok (\(report.flow ?? "?"), sha256 \(report.sha256?.prefix(12) ?? ""))"
                    : report.errors.map {
                        "\(report.file):\($0.line):\($0.column): \($0.path.isEmpty ? "" : $0.path + ": ")\($0.message)"
                    }
                    .joined(separator: "\n")
            }.joined(separator: "\n")
        }
        if reports.contains(where: { !$0.valid }) { throw ExitCode(1) }
    }

    static func check(file: String) -> FileReport {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            return FileReport(
                file: file, valid: false,
                errors: [
                    ErrorEntry(
                        code: "unreadable", line: 0, column: 0, path: "", message: "cannot read the file")
                ])
        }
        do {
            let flow = try FlowParser.parse(yaml: text, file: file)
            return FileReport(file: file, valid: true, flow: flow.name, sha256: flow.contentHash, errors: [])
        } catch {
            return FileReport(
                file: file, valid: false,
                errors: error.map {
                    ErrorEntry(
                        code: $0.code.rawValue, line: $0.line, column: $0.column, path: $0.path,
                        message: $0.message)
                })
        }
    }
}
