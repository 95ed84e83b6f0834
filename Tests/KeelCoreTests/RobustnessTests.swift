import Foundation
import KeelCore
import Testing

/// Malformed and unexpected input must give errors, never crashes or hangs.
@Suite("Robustness")
struct RobustnessTests {
    static func fixtureTexts() throws -> [[UInt8]] {
        let directory = try Fixtures.directory.appendingPathComponent("json-schema-2020-12")
        return try Fixtures.conformanceFiles.map {
            Array(try Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    @Test("mutated documents parse or fail cleanly, and what parses round-trips")
    func mutatedDocuments() throws {
        var random = SplitMix64(seed: 2020_12)
        let interesting = Array(#"{}[]",:"\u0123456789-+.eE truefalsenull"#.utf8) + [0x00, 0x80, 0xC3, 0xFF]
        var parsed = 0
        var rejected = 0
        for text in try Self.fixtureTexts() {
            for _ in 0..<12 {
                var bytes = text
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes.remove(at: position)
                    case 1: bytes.insert(interesting.randomElement(using: &random) ?? 0, at: position)
                    default: bytes[position] = interesting.randomElement(using: &random) ?? 0
                    }
                }
                do {
                    let value = try JSONValue(parsing: bytes)
                    parsed += 1
                    #expect(try JSONValue(parsing: value.jsonBytes()) == value)
                    #expect(try JSONValue(parsing: value.jsonBytes(.canonical)) == value)
                } catch {
                    rejected += 1
                    #expect(error.line >= 1 && error.column >= 1 && error.offset <= bytes.count)
                }
            }
        }
        #expect(parsed > 0)
        #expect(rejected > 0)
    }

    @Test("every conformance schema against every kind of instance: no crash, both APIs agree")
    func crossValidation() throws {
        var schemas: [JSONSchema] = []
        var instances: [JSONValue] = []
        for file in Fixtures.conformanceFiles {
            for group in try Fixtures.json("json-schema-2020-12/\(file)").arrayValue ?? [] {
                if let document = group["schema"], let schema = try? JSONSchema(document) {
                    schemas.append(schema)
                }
                instances += (group["tests"]?.arrayValue ?? []).compactMap { $0["data"] }
            }
        }
        #expect(schemas.count > 200)
        let sample = stride(from: 0, to: instances.count, by: 9).map { instances[$0] }
        for schema in schemas {
            for instance in sample {
                let errors = schema.validate(instance)
                #expect(errors.isEmpty == schema.isValid(instance), "\(schema.document) on \(instance)")
            }
        }
    }

    @Test("schemas are data too: every fixture value compiles or is rejected with a location")
    func arbitraryValuesAsSchemas() throws {
        var compiled = 0
        var rejected = 0
        for file in Fixtures.conformanceFiles {
            for group in try Fixtures.json("json-schema-2020-12/\(file)").arrayValue ?? [] {
                for testCase in group["tests"]?.arrayValue ?? [] {
                    guard let data = testCase["data"] else { continue }
                    do {
                        let schema = try JSONSchema(data)
                        compiled += 1
                        _ = schema.validate(data)
                    } catch {
                        rejected += 1
                        #expect(!error.message.isEmpty)
                    }
                }
            }
        }
        #expect(compiled > 0)
        #expect(rejected > 0)
    }
}
