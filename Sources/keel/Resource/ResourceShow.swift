import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel resource show REF`: the content's size and backend and every name it has.
struct ResourceShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a resource's metadata: size, backend and every name that refers to it.")

    @Argument(help: "The reference, res:sha256:<hex>.") var reference: String
    @OptionGroup var options: ResourceOptions

    struct Report: Encodable {
        var reference: ResourceReference
        var size: Int64
        var backend: ResourceBackendKind
        var names: [ResourceRecord]
    }

    func run() async throws {
        let reference = try options.reference(reference)
        let report = try await options.withStore { store in
            let names = try await store.names(of: reference)
            guard let newest = names.first else { throw ResourceStoreError.unknownReference(reference) }
            return Report(reference: reference, size: newest.size, backend: newest.backend, names: names)
        }
        options.output.emit(report) {
            var lines = [
                "reference: \(report.reference)", "size:      \(report.size)", "backend:   \(report.backend)",
            ]
            for record in report.names {
                var line =
                    "  \(record.createdAt.formatted(.iso8601)) \(record.name ?? "-") (\(record.mediaType))"
                if let producer = record.producer {
                    line += " run \(producer.runID)"
                    if let step = producer.step { line += " step \(step)" }
                    if let attempt = producer.attempt { line += "#\(attempt)" }
                }
                if record.retention == .keep { line += " keep" }
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }
    }
}
