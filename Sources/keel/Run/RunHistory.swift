import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel run history RUN`: every fact of a run, as stored (docs/history.md).
struct RunHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Print every fact of a run, in order (docs/history.md).")

    @Argument(help: "The run's id.") var runID: String
    @OptionGroup var database: DatabaseOptions

    struct Entry: Encodable {
        var seq: Int
        var recordedAt: Date
        var fact: JSONValue
    }

    func run() async throws {
        let facts = try await database.withPool {
            try await RunStore(pool: $0).history(run: try RunID.named(runID))
        }
        let entries = facts.map {
            Entry(
                seq: $0.seq, recordedAt: $0.recordedAt,
                fact: (try? JSONValue(parsing: $0.entry.fact)) ?? .null)
        }
        database.output.emit(entries) {
            facts.map { fact in
                var line = "\(fact.seq)  \(fact.recordedAt.formatted(.iso8601))  \(fact.entry.kind)"
                if let step = fact.entry.step { line += "  \(step)" }
                if let attempt = fact.entry.attempt { line += " #\(attempt)" }
                if let actor = fact.entry.actor { line += "  by \(actor)" }
                if let errorClass = fact.entry.errorClass { line += "  [\(errorClass)]" }
                return line
            }.joined(separator: "\n")
        }
    }
}
