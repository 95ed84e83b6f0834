import KeelCore
import Testing

/// Messages written to contract version 1 (`keel-schema: 1`, DESIGN §4), kept as files: whatever this
/// build changes, it must still read them, so a replica of the previous release and one of this release
/// can hand each other work during a rolling upgrade. Unknown fields are ignored, as the contract says.
@Suite("Contract version 1 golden messages")
struct ContractGoldenMessagesTests {
    static func body(_ name: String) throws -> [UInt8] {
        try Fixtures.json("contracts/1/\(name)").jsonBytes()
    }

    @Test("a trigger, full and minimal, is read")
    func trigger() throws {
        let full = try TriggerRequest.parse(body: Self.body("trigger.json"), messageID: "m-1").get()
        #expect(full.flow == "safe-code-change")
        #expect(full.idempotencyKey == "ticket-4711")
        #expect(full.actor == "ana")
        #expect(full.input["task"]?.stringValue == "fix the flaky test")
        let minimal = try TriggerRequest.parse(body: Self.body("trigger-minimal.json"), messageID: "m-2")
            .get()
        #expect(minimal.flow == "nightly-report")
    }

    @Test("a step dispatch is read")
    func dispatch() throws {
        let dispatch = try #require(StepDispatch(json: Fixtures.json("contracts/1/step.dispatch.json")))
        #expect(dispatch.flow == "safe-code-change" && dispatch.version == 3)
        #expect(dispatch.step == "tests" && dispatch.attempt == 2)
        #expect(dispatch.idempotencyKey == "01939c4e-7f1a-7c2b-9d3e-4f5a6b7c8d9e:tests:2")
        #expect(dispatch.correlationID == "ticket-4711")
    }

    @Test("an ssh reap request is read")
    func reap() throws {
        let reap = try #require(SSHReapRequest(json: Fixtures.json("contracts/1/ssh.reap.json")))
        #expect(reap.host == "gpu-1" && reap.pid == 4242)
        #expect(reap.step == "benchmark" && reap.attempt == 1)
    }
}
