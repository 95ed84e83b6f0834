import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel resource ls --run RUN`: the resources a run produced.
struct ResourceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the resources a run produced, oldest first.")

    @Option(help: "The run's id (UUID).") var run: String
    @OptionGroup var options: ResourceOptions

    func run() async throws {
        guard let runID = RunID(run) else {
            throw options.output.fail(.user("not a run id: \(run) (expected a UUID)"))
        }
        let records = try await options.withStore { try await $0.list(run: runID) }
        options.output.emit(records) {
            guard !records.isEmpty else { return "run \(run) has no resources" }
            return TextTable.render(
                header: ["REFERENCE", "SIZE", "TYPE", "STEP", "NAME"],
                rows: records.map { record in
                    [
                        record.reference.description, "\(record.size)", record.mediaType,
                        record.producer.map { "\($0.step ?? "-")#\($0.attempt.map(String.init) ?? "-")" }
                            ?? "-",
                        record.name ?? "-",
                    ]
                })
        }
    }
}
