import Foundation
import KeelCore

/// Test data shipped with the test bundle (Tests/KeelCoreTests/Fixtures).
enum Fixtures {
    static var directory: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw FixtureError(message: "the Fixtures folder is missing from the test bundle")
            }
            return url
        }
    }

    /// Parses a fixture file with KeelCore's own parser.
    static func json(_ relativePath: String) throws -> JSONValue {
        let url = try directory.appendingPathComponent(relativePath)
        return try JSONValue(parsing: Array(try Data(contentsOf: url)))
    }

    /// The conformance case files, sorted; empty (and so failing the suite) if the folder is missing.
    static let conformanceFiles: [String] = {
        guard let url = try? directory.appendingPathComponent("json-schema-2020-12"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: url.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()
}

struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
