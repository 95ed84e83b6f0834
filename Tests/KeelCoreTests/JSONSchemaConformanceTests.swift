import KeelCore
import Testing

/// The official JSON Schema Test Suite (draft 2020-12), case by case.
@Suite("JSON Schema 2020-12 conformance")
struct JSONSchemaConformanceTests {
    /// One skipped case and why, from Fixtures/json-schema-2020-12-skipped.json.
    struct Skip: Hashable {
        let file: String
        let group: String
        let testCase: String
    }

    static func skips() throws -> [Skip: String] {
        guard case .array(let entries) = try Fixtures.json("json-schema-2020-12-skipped.json") else {
            throw FixtureError(message: "the skip list must be an array")
        }
        var skips: [Skip: String] = [:]
        for entry in entries {
            guard let file = entry["file"]?.stringValue, let group = entry["group"]?.stringValue,
                let testCase = entry["case"]?.stringValue, let reason = entry["reason"]?.stringValue,
                !reason.isEmpty
            else { throw FixtureError(message: "malformed skip entry \(entry)") }
            skips[Skip(file: file, group: group, testCase: testCase)] = reason
        }
        return skips
    }

    @Test("the conformance files are all there")
    func filesPresent() {
        #expect(Fixtures.conformanceFiles.count == 37)
    }

    @Test("conformance file", arguments: Fixtures.conformanceFiles)
    func conformance(file: String) throws {
        let skips = try Self.skips()
        guard case .array(let groups) = try Fixtures.json("json-schema-2020-12/\(file)") else {
            Issue.record("\(file) is not an array of groups")
            return
        }
        #expect(!groups.isEmpty)
        for group in groups {
            let groupName = try #require(group["description"]?.stringValue)
            let schemaDocument = try #require(group["schema"])
            let cases = try #require(group["tests"]?.arrayValue)
            let skipped = cases.filter { testCase in
                skips[
                    Skip(file: file, group: groupName, testCase: testCase["description"]?.stringValue ?? "")]
                    != nil
            }
            let schema: JSONSchema
            do {
                schema = try JSONSchema(schemaDocument)
            } catch {
                // Only skipped (remote-reference) cases may fail to compile, and only for that reason.
                #expect(
                    skipped.count == cases.count
                        && error.message.contains("remote references are not supported"),
                    "\(file) / \(groupName): schema did not compile: \(error)")
                continue
            }
            var checked = 0
            defer { #expect(checked + skipped.count == cases.count, "\(file) / \(groupName): cases not run") }
            for testCase in cases {
                let name = try #require(testCase["description"]?.stringValue)
                if skips[Skip(file: file, group: groupName, testCase: name)] != nil { continue }
                checked += 1
                let data = try #require(testCase["data"])
                let expected = try #require(testCase["valid"]?.boolValue as Bool?)
                let errors = schema.validate(data)
                #expect(schema.isValid(data) == expected, "\(file) / \(groupName) / \(name): isValid")
                #expect(
                    errors.isEmpty == expected,
                    "\(file) / \(groupName) / \(name): validate gave \(errors.map(\.description))")
            }
        }
    }

    @Test("every skipped case exists and the skip count matches the checked-in list")
    func skipList() throws {
        let skips = try Self.skips()
        var found = 0
        var total = 0
        for file in Fixtures.conformanceFiles {
            guard case .array(let groups) = try Fixtures.json("json-schema-2020-12/\(file)") else { continue }
            for group in groups {
                for testCase in group["tests"]?.arrayValue ?? [] {
                    total += 1
                    let skip = Skip(
                        file: file, group: group["description"]?.stringValue ?? "",
                        testCase: testCase["description"]?.stringValue ?? "")
                    if skips[skip] != nil { found += 1 }
                }
            }
        }
        // 858 cases in the suite: 854 must pass, 4 need the remote meta-schema.
        #expect(total == 858)
        #expect(skips.count == 4)
        #expect(found == skips.count)
    }
}
