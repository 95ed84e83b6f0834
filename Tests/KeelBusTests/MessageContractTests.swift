import AMQPClient
import KeelBus
import Testing

/// What a consumer makes of the `keel-schema` header a publisher sends, hostile ones included.
@Suite("Message contract versions")
struct MessageContractTests {
    static func refusal(_ value: AMQPFieldValue?) -> String? {
        var properties = AMQPProperties()
        if let value { properties.headers[MessageContract.header] = value }
        return MessageContract.refusal(for: properties)
    }

    @Test("version 1, written as text or as a number, and no header at all are read")
    func understood() {
        #expect(Self.refusal(nil) == nil)
        #expect(Self.refusal(.string("1")) == nil)
        #expect(Self.refusal(.int32(1)) == nil)
    }

    @Test("another version is refused with the version and the ones this build reads")
    func otherVersion() {
        #expect(
            Self.refusal(.string("2"))
                == "contract version keel-schema '2' is not one this consumer reads (1)")
    }

    @Test("a hostile version is refused without repeating what cannot be shown")
    func hostileVersion() throws {
        let withNUL = try #require(Self.refusal(.string("2\u{0}\u{1B}[31mred")))
        #expect(!withNUL.unicodeScalars.contains { $0.value < 0x20 })
        #expect(withNUL.contains("'2[31mred'"))
        let long = try #require(Self.refusal(.string(String(repeating: "9", count: 100_000))))
        #expect(long.count < 200)
        #expect(Self.refusal(.table(["nested": .string("1")])) == "the keel-schema header is not a version")
        #expect(Self.refusal(.bytes([0xFF, 0xFE])) == "the keel-schema header is not a version")
    }
}
