import KeelCore
import Testing

@Suite("Values PostgreSQL cannot store")
struct UnstorableValueTests {
    func value(_ json: String) throws -> JSONValue { try JSONValue(parsing: Array(json.utf8)) }

    @Test func aNULInANestedStringIsFoundWithItsPointer() throws {
        let found = try value(#"{"a": [1, {"b": "x\u0000y"}]}"#).firstUnstorableValue()
        #expect(
            found == UnstorableValue(pointer: JSONPointer(tokens: ["a", "1", "b"]), reason: .nulCharacter))
        #expect(
            found?.description
                == "the value at /a/1/b holds the character U+0000, which PostgreSQL cannot store")
    }

    @Test func aNULInAnObjectKeyIsFound() throws {
        let found = try value(#"{"ok": 1, "k\u0000": 2}"#).firstUnstorableValue(
            under: JSONPointer(tokens: ["input"]))
        #expect(found?.pointer.description == "/input/k\u{0}")
        #expect(found?.description.isStorable == true)
        #expect(found?.reason == .nulCharacter)
    }

    @Test func numbersBeyondNumericAreFoundAndOrdinaryOnesAreNot() throws {
        #expect(try value(#"{"n": 1e131072}"#).firstUnstorableValue()?.reason == .numberOutOfRange)
        #expect(try value(#"{"n": 1e-16384}"#).firstUnstorableValue()?.reason == .numberOutOfRange)
        #expect(
            try value(#"{"n": 1e131071, "m": 1e-16383, "big": 123456789012345678901234567890}"#)
                .firstUnstorableValue() == nil)
    }

    @Test func storableTextIsLeftAloneAndNULBecomesTheReplacementCharacter() {
        #expect("plain".storable == "plain")
        #expect("a\u{0}b".storable == "a\u{FFFD}b")
        #expect(!"a\u{0}b".isStorable)
    }

    @Test func aTriggerWhoseInputHoldsANULIsRefusedWithThePointer() throws {
        let result = TriggerRequest.parse(
            body: Array(#"{"flow": "deploy", "input": {"task": "fix\u0000"}}"#.utf8), messageID: nil)
        guard case .failure(let rejection) = result else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.reason == .unstorableValue)
        #expect(rejection.field == "input")
        #expect(rejection.errors.map(\.path) == ["/task"])
    }

    @Test func aTriggerWhoseKeyOrActorHoldsANULIsRefusedNamingTheField() {
        for field in ["idempotency_key", "actor"] {
            let result = TriggerRequest.parse(
                body: Array(#"{"flow": "deploy", "\#(field)": "a\u0000b"}"#.utf8), messageID: nil)
            guard case .failure(let rejection) = result else {
                Issue.record("expected a rejection for \(field)")
                continue
            }
            #expect(rejection.reason == .unstorableValue)
            #expect(rejection.field == field)
        }
    }
}
