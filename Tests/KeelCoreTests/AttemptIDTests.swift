@testable import KeelCore
import Testing

@Suite struct AttemptIDTests {
    static let run = RunID.fixture(4)
    static let attempt = AttemptID(run: run, step: "tests", attempt: 2)

    @Test("each text form is the run, the step and the attempt, as stored and sent")
    func textForms() {
        let attempt = Self.attempt
        #expect(attempt.idempotencyKey == "0193a1b2-0000-7000-8000-000000000004:tests:2")
        #expect(attempt.waitID == "0193a1b2-0000-7000-8000-000000000004:tests:2:wait")
        #expect(attempt.approvalID == "0193a1b2-0000-7000-8000-000000000004:tests:2:approval")
        #expect(attempt.slotHolder == "tests:2")
        #expect(attempt.description == attempt.idempotencyKey)
    }

    @Test("each text form parses back to the same attempt, an element's too")
    func parsesBack() {
        for attempt in [Self.attempt, AttemptID(run: Self.run, step: "shard[12]", attempt: 31)] {
            #expect(AttemptID(idempotencyKey: attempt.idempotencyKey) == attempt)
            #expect(AttemptID(waitID: attempt.waitID) == attempt)
            #expect(AttemptID(approvalID: attempt.approvalID) == attempt)
        }
    }

    @Test("a text parses only as the form it is")
    func formsDoNotMix() {
        let attempt = Self.attempt
        #expect(AttemptID(waitID: attempt.approvalID) == nil)
        #expect(AttemptID(waitID: attempt.idempotencyKey) == nil)
        #expect(AttemptID(approvalID: attempt.waitID) == nil)
        #expect(AttemptID(idempotencyKey: attempt.waitID) == nil)
        // A budget gate's approval is not an attempt's.
        #expect(AttemptID(approvalID: "\(Self.run):budget:1") == nil)
    }

    @Test(
        "malformed wait ids are refused",
        arguments: [
            "", ":wait", "0193a1b2-0000-7000-8000-000000000004:tests:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:2:wait:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:2:",
            "0193a1b2-0000-7000-8000-000000000004:tests:2:Wait",
            "0193a1b2-0000-7000-8000-000000000004::2:wait",
            // The run must be a UUID, written as a run id writes it.
            "r1:tests:2:wait", "0193a1b2-0000-7000-8000-00000000000:tests:2:wait",
            "0193A1B2-0000-7000-8000-000000000004:tests:2:wait",
            // The attempt is a positive number, written without sign or leading zeros.
            "0193a1b2-0000-7000-8000-000000000004:tests:0:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:-1:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:two:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:+2:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:02:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:99999999999999999999:wait",
            // U+0000 anywhere: the UUID parser would read the run as a C string and stop there.
            "0193a1b2-0000-7000-8000-000000000004\u{0}:tests:2:wait",
            "0193a1b2-0000-7000-8000-000000000004:te\u{0}sts:2:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:2\u{0}:wait",
            "0193a1b2-0000-7000-8000-000000000004:tests:2:wait\u{0}",
        ])
    func malformedWaitIDs(_ text: String) {
        #expect(AttemptID(waitID: text) == nil)
    }

    @Test(
        "malformed idempotency keys and approval ids are refused",
        arguments: [
            "deploy-42", "a:b:c", "r1:tests:2", "0193a1b2-0000-7000-8000-000000000004:tests:0",
            "0193a1b2-0000-7000-8000-000000000004:tests", "0193a1b2-0000-7000-8000-000000000004:tests:2:3",
            "0193a1b2-0000-7000-8000-000000000004\u{0}:tests:2",
        ])
    func malformedKeys(_ text: String) {
        #expect(AttemptID(idempotencyKey: text) == nil)
        #expect(AttemptID(approvalID: text + ":approval") == nil)
    }

    @Test("only a wait id is a child run's idempotency key")
    func childKeys() {
        #expect(SubflowAction.isChildKey(Self.attempt.waitID))
        #expect(!SubflowAction.isChildKey(Self.attempt.idempotencyKey))
        #expect(!SubflowAction.isChildKey(Self.attempt.approvalID))
        #expect(!SubflowAction.isChildKey("r1:tests:2:wait"))
    }

    @Test("a budget gate's approval id names its run; an attempt's does not pass as one")
    func budgetGateApprovalIDs() {
        #expect(
            BudgetGate.run(ofApprovalID: BudgetGate.approvalID(run: Self.run.description, number: 3))
                == Self.run)
        #expect(BudgetGate.run(ofApprovalID: Self.attempt.approvalID) == nil)
        #expect(BudgetGate.run(ofApprovalID: "\(Self.run):budget:0") == nil)
        #expect(BudgetGate.run(ofApprovalID: "r1:budget:1") == nil)
        #expect(BudgetGate.run(ofApprovalID: "\(Self.run)\u{0}:budget:1") == nil)
    }

    @Test("a timer id names its attempt and purpose; the run's own timer names none")
    func timerIDs() {
        let heartbeat = Self.attempt.timerID("heartbeat:3")
        #expect(heartbeat == "\(Self.run):\(Self.attempt.step):\(Self.attempt.attempt):heartbeat:3")
        #expect(AttemptID.timer(heartbeat)?.attempt == Self.attempt)
        #expect(AttemptID.timer(heartbeat)?.purpose == "heartbeat:3")
        #expect(AttemptID.timer("\(Self.run):run-timeout:1") == nil)
        #expect(AttemptID.timer(Self.attempt.idempotencyKey + ":") == nil)
        #expect(AttemptID.timer("r1:tests:2:retry") == nil)
        #expect(ShadowSimulator.step(ofTimer: heartbeat, runID: Self.run.description) == Self.attempt.step)
        #expect(
            ShadowSimulator.step(ofTimer: "\(Self.run):run-timeout:1", runID: Self.run.description) == nil)
        #expect(ShadowSimulator.step(ofTimer: heartbeat, runID: RunID.fixture(9).description) == nil)
    }
}
