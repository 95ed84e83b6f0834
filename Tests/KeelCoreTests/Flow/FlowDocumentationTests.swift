import Foundation
import Testing

@testable import KeelCore

/// docs/flows.md shows real parser behaviour: its examples are checked here.
@Suite("Flow documentation")
struct FlowDocumentationTests {
    private static func document() throws -> String {
        try String(
            contentsOf: FlowTest.packageRoot.appendingPathComponent("docs").appendingPathComponent(
                "flows.md"),
            encoding: .utf8)
    }

    /// The fenced blocks of the given language (`""` for none), in order.
    private static func blocks(_ language: String, in text: String) -> [String] {
        var blocks: [String] = []
        var open: (language: Substring, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let block = open {
                if line == "```" {
                    if block.language == language {
                        blocks.append(block.lines.joined(separator: "\n") + "\n")
                    }
                    open = nil
                } else {
                    open?.lines.append(line)
                }
            } else if line.hasPrefix("```") {
                open = (line.dropFirst(3), [])
            }
        }
        return blocks
    }

    @Test func completeExampleIsValid() throws {
        let yaml = try #require(Self.blocks("yaml", in: try Self.document()).first)
        let flow = try FlowTest.parse(yaml)
        #expect(flow.name == "safe-code-change")
        // It is the same flow as Examples/safe-code-change.yaml.
        #expect(flow == (try FlowTest.parse(try FlowTest.example("safe-code-change.yaml"))))
    }

    @Test func errorExampleShowsTheParsersOutput() throws {
        let document = try Self.document()
        let yaml = try #require(Self.blocks("yaml", in: document).first { $0.hasPrefix("flow: Bad_Name") })
        let expected = try #require(
            Self.blocks("", in: document).first { $0.hasPrefix("flows/deploy.yaml:") })
        do {
            _ = try FlowParser.parse(yaml: yaml, file: "flows/deploy.yaml")
            Issue.record("the error example parsed")
        } catch {
            #expect(error.description + "\n" == expected)
        }
    }

    @Test func templateExampleIsAValidTemplate() throws {
        let yaml = try #require(
            Self.blocks("yaml", in: try Self.document()).first { $0.hasPrefix("template:") })
        let template = try FlowTemplate.parse(yaml: yaml, file: "flows.md")
        #expect(template.parameters.map(\.name) == ["reviewers", "test_command"])
        let flow = try template.instantiate(flow: "payments-change", values: ["reviewers": "payments"])
            .definition
        #expect(flow.step("review") != nil)
    }
}
