import KeelCore
import Testing

@Suite struct ResourceReferenceTests {
    let hex = String(repeating: "ab", count: 32)

    @Test func parsesAndPrintsTheReferenceForm() throws {
        let reference = try ResourceReference(parsing: "res:sha256:" + hex)
        #expect(reference.sha256 == hex)
        #expect(reference.description == "res:sha256:" + hex)
        #expect(try ResourceReference(parsing: hex) == reference)
        #expect(ResourceReference(sha256: hex) == reference)
    }

    @Test(arguments: [
        "", "res:sha256:", "res:sha256:" + String(repeating: "AB", count: 32),
        "res:md5:" + String(repeating: "a", count: 64),
        "res:sha256:" + String(repeating: "a", count: 63), "res:sha256:" + String(repeating: "a", count: 65),
        "res:sha256:" + String(repeating: "g", count: 64),
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(throws: ResourceReferenceError.self) { try ResourceReference(parsing: text) }
    }

    @Test func theInlineLimitIsInclusive() {
        let limits = ResourceLimits(inlineLimit: 20)
        // {"k":"…"} is 8 bytes plus the string.
        func value(_ size: Int) -> JSONValue {
            .object(["k": .string(String(repeating: "y", count: size - 8))])
        }
        #expect(!limits.exceedsInlineLimit(value(19)))
        #expect(!limits.exceedsInlineLimit(value(20)))
        #expect(limits.exceedsInlineLimit(value(21)))
        #expect(limits.overflow(of: value(21)) == value(21).jsonBytes(.canonical))
        #expect(ResourceLimits.default.inlineLimit == 65_536)
    }

    @Test func guessesMediaTypesFromASmallTable() {
        #expect(ResourceMediaType.guess(forFileName: "build/step.LOG") == "text/plain")
        #expect(ResourceMediaType.guess(forFileName: "patch.diff") == "text/x-diff")
        #expect(ResourceMediaType.guess(forFileName: "report.json") == "application/json")
        #expect(ResourceMediaType.guess(forFileName: "archive.tar.gz") == "application/gzip")
        #expect(ResourceMediaType.guess(forFileName: "workspace.tgz") == "application/gzip")
        #expect(ResourceMediaType.guess(forFileName: "trace.zst") == "application/zstd")
        #expect(ResourceMediaType.guess(forFileName: ".profile") == "application/octet-stream")
        #expect(ResourceMediaType.guess(forFileName: "weights.bin") == "application/octet-stream")
        #expect(ResourceMediaType.isText("text/x-diff") && !ResourceMediaType.isText("application/json"))
        #expect(ResourceMediaType.isValid("text/plain; charset=utf-8") && !ResourceMediaType.isValid("plain"))
    }
}
