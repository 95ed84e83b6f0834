import Foundation
import Testing

@testable import KeelCore

/// Helpers shared by the flow tests.
enum FlowTest {
    /// The package root, found from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func example(_ name: String) throws -> String {
        try String(
            contentsOf: packageRoot.appendingPathComponent("Examples").appendingPathComponent(name),
            encoding: .utf8)
    }

    /// Every flow file directly in Examples/ (templates live in Examples/templates/).
    static var exampleFiles: [String] {
        let names =
            (try? FileManager.default.contentsOfDirectory(
                atPath: packageRoot.appendingPathComponent("Examples").path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// Parses text that must be valid, failing the test with every error otherwise.
    static func parse(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> FlowDefinition
    {
        do {
            return try FlowParser.parse(yaml: yaml, file: "test.yaml")
        } catch {
            Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The errors for text that must be invalid (none if it unexpectedly parses: the caller's
    /// expectations then fail).
    static func errors(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [FlowError] {
        do {
            _ = try FlowParser.parse(yaml: yaml, file: "test.yaml")
            Issue.record("expected errors, but the flow parsed", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors
        }
    }

    /// A minimal valid flow around the given steps block.
    static func flow(steps: String) -> String {
        "flow: test\nsteps:\n" + steps
    }
}
