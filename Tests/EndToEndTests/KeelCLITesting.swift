import Foundation
import KeelTestSupport

/// Runs the real `keel` executable the way users and agents do, and reads its `--json` output.
protocol KeelCLITesting {}

extension KeelCLITesting {
    func keel(
        _ arguments: [String], database: TestDatabase? = nil, environment extra: [String: String] = [:]
    ) async throws -> (status: Int32, json: Any?) {
        var environment = extra.merging(["KEEL_ACTOR": "e2e-tester"]) { given, _ in given }
        if let database { environment["KEEL_DATABASE_URL"] = database.url }
        let result = try await ServiceProcess.run("keel", arguments: arguments, environment: environment)
        let json = try? JSONSerialization.jsonObject(with: Data(result.output.utf8))
        return (result.status, json)
    }

    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flow-\(UUID().uuidString).yaml"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
