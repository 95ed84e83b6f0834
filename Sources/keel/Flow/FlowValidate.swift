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

        /// `file:line:column: path: message` lines, as compilers print them.
        var errorText: String {
            errors.map {
                "\(file):\($0.line):\($0.column): \($0.path.isEmpty ? "" : $0.path + ": ")\($0.message)"
            }
            .joined(separator: "\n")
        }
    }

    struct ErrorEntry: Encodable {
        var code: String
        var line: Int
        var column: Int
        var path: String
        var message: String
    }

    /// A flow file read and parsed: its text, the definition when valid, and the report either way.
    struct LoadedFile {
        var source: String?
        var flow: FlowDefinition?
        var report: FileReport
    }

    func run() async throws {
        let reports = files.map { Self.load(file: $0).report }
        CLIOutput(json: json).emit(reports) {
            reports.map { report in
                report.valid
                    ? "\(report.file): ok (\(report.flow ?? "?"), sha256 \(report.sha256?.prefix(12) ?? ""))"
                    : report.errorText
            }.joined(separator: "\n")
        }
        if reports.contains(where: { !$0.valid }) { throw ExitCode(1) }
    }

    static func load(file: String) -> LoadedFile {
        guard let source = try? String(contentsOfFile: file, encoding: .utf8) else {
            let error = ErrorEntry(
                code: "unreadable", line: 0, column: 0, path: "",
                message: "cannot read the file as UTF-8 text")
            return LoadedFile(report: FileReport(file: file, valid: false, errors: [error]))
        }
        do {
            let flow = try FlowParser.parse(yaml: source, file: file)
            return LoadedFile(
                source: source, flow: flow,
                report: FileReport(
                    file: file, valid: true, flow: flow.name, sha256: flow.contentHash, errors: []))
        } catch {
            let entries = error.map {
                ErrorEntry(
                    code: $0.code.rawValue, line: $0.line, column: $0.column, path: $0.path,
                    message: $0.message)
            }
            return LoadedFile(source: source, report: FileReport(file: file, valid: false, errors: entries))
        }
    }
}
