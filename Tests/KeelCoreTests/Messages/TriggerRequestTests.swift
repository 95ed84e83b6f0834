import KeelCore
import Testing

@Suite("Trigger requests")
struct TriggerRequestTests {
    func parse(_ body: String, messageID: String? = nil) -> Result<TriggerRequest, TriggerRejection> {
        TriggerRequest.parse(body: Array(body.utf8), messageID: messageID)
    }

    func rejection(_ body: String) -> TriggerRejection? {
        if case .failure(let rejection) = parse(body) { return rejection }
        Issue.record("expected a rejection for \(body)")
        return nil
    }

    @Test func readsEveryFieldAndIgnoresUnknownOnes() throws {
        let request = try parse(
            #"{"flow": "deploy", "input": {"a": [1]}, "idempotency_key": "k", "actor": "ana", "draft": 3, "new": true}"#
        ).get()
        #expect(request.flow == "deploy")
        #expect(request.input == ["a": [1]])
        #expect(request.idempotencyKey == "k")
        #expect(request.actor == "ana")
        #expect(request.draft == 3)
    }

    @Test func defaults() throws {
        let request = try parse(#"{"flow": "deploy"}"#, messageID: "m-1").get()
        #expect(request.input == .object([:]))
        #expect(request.idempotencyKey == "m-1")
        #expect(request.actor == nil && request.draft == nil)
        #expect(try parse(#"{"flow": "deploy", "idempotency_key": null}"#).get().idempotencyKey == nil)
    }

    @Test func rejectionsNameTheFieldAndWhatWasExpected() {
        let malformed = rejection("{\"flow\": ")
        #expect(malformed?.reason == .malformedJSON)
        #expect(malformed?.message.hasPrefix("the body is not valid JSON: ") == true)
        #expect(malformed?.message.contains("line 1, column") == true)

        #expect(rejection("[1]")?.message == #"expected a JSON object with at least "flow"; got array"#)
        #expect(rejection("{}")?.field == "flow")
        #expect(
            rejection(#"{"flow": "Bad Name"}"#)?.message
                == "expected a flow name matching ^[a-z0-9][a-z0-9._-]{0,127}$; got string")
        #expect(rejection(#"{"flow": "f", "idempotency_key": ""}"#)?.field == "idempotency_key")
        let long = String(repeating: "k", count: TriggerRequest.maximumKeyLength + 1)
        #expect(rejection(#"{"flow": "f", "idempotency_key": "\#(long)"}"#)?.field == "idempotency_key")
        #expect(
            rejection(#"{"flow": "f", "actor": 5}"#)?.message
                == "expected a non-empty string of at most 256 characters; got integer")
        for draft in ["0", "-1", "1.5", "\"2\"", "99999999999"] {
            #expect(rejection(#"{"flow": "f", "draft": \#(draft)}"#)?.field == "draft", "draft \(draft)")
        }
    }

    @Test func rejectionMessagesNeverEchoValues() {
        let secret = "hunter2-secret-value"
        for body in [
            #"{"flow": "\#(secret) x"}"#, #"{"flow": "f", "actor": ["\#(secret)"]}"#,
            #"{"flow": "f", "draft": "\#(secret)"}"#,
        ] {
            #expect(rejection(body)?.message.contains(secret) == false)
        }
    }

    @Test func invalidInputListsEachProblem() throws {
        let schema = try JSONSchema([
            "type": "object", "required": ["task"], "properties": ["n": ["maximum": 3]],
        ])
        let rejection = TriggerRejection.invalidInput(schema.validate(["n": 5]))
        #expect(rejection.reason == .invalidInput && rejection.field == "input")
        #expect(Set(rejection.errors.map(\.keyword)) == ["required", "maximum"])
        #expect(rejection.errors.contains { $0.path == "/n" })
        #expect(rejection.message.contains("(and 1 more)"))
    }
}

@Suite("UUIDv7")
struct UUIDv7Tests {
    @Test func layoutVersionVariantAndOrder() {
        var generator = SplitMix64(seed: 7)
        let first = RunID.make(millisecondsSinceEpoch: 1_764_201_600_000, using: &generator).description
        let second = RunID.make(millisecondsSinceEpoch: 1_764_201_600_001, using: &generator).description
        #expect(first.count == 36)
        #expect(first.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        #expect(Array(first)[14] == "7")
        #expect("89ab".contains(Array(first)[19]))
        #expect(first.hasPrefix("019ac29c-1400"))  // 1_764_201_600_000 ms = 0x019AC29C1400
        #expect(first < second)
        #expect(first == first.lowercased())
    }
}
