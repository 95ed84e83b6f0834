import Foundation
import KeelCore
import Testing

@Suite struct RunIDTests {
    @Test func itsTextIsTheLowerCaseUUIDAndUpperCaseTextNamesTheSameRun() throws {
        let id = try #require(RunID("0193A5E2-7C1F-7B3A-9F1E-2C4D5E6F7A8B"))
        #expect(id.description == "0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b")
        #expect(RunID(id.description) == id)
    }

    @Test(arguments: [
        "", "r1", "0193a5e2-7c1f-7b3a-9f1e", "0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b ", "0193a5e2\u{0}",
        // The UUID parser reads C strings: a valid id followed by U+0000 and more must not pass as that id.
        "0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b\u{0}", "0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b\u{0}' OR 1=1",
    ])
    func textThatIsNotAUUIDIsNoRunID(_ text: String) {
        #expect(RunID(text) == nil)
    }

    @Test func itIsAJSONStringAndAnythingElseIsRefused() throws {
        let id = RunID.fixture(7)
        let encoded = String(decoding: try JSONEncoder().encode([id]), as: UTF8.self)
        #expect(encoded == #"["0193a1b2-0000-7000-8000-000000000007"]"#)
        #expect(try JSONDecoder().decode([RunID].self, from: Data(encoded.utf8)) == [id])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([RunID].self, from: Data(#"["r1"]"#.utf8))
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([RunID].self, from: Data("[7]".utf8)) }
    }

    @Test func madeIdsAreVersion7AndSortByCreationTime() {
        var generator = SystemRandomNumberGenerator()
        let ids = (0..<50).map {
            RunID.make(millisecondsSinceEpoch: 1_764_201_600_000 + Int64($0), using: &generator)
        }
        #expect(ids.sorted() == ids)
        #expect(ids.allSatisfy { Array($0.description)[14] == "7" })
        #expect(ids.allSatisfy { "89ab".contains(Array($0.description)[19]) })
        #expect(Set(ids).count == ids.count)
    }
}
