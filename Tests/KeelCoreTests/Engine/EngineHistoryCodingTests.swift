import Foundation
import Testing

@testable import KeelCore

@Suite("Engine: history JSON")
struct EngineHistoryCodingTests {
    static let at = Timestamp(millisecondsSinceEpoch: 1_795_746_162_123)

    static let events: [RunFact.Event] = [
        .runTriggered(
            RunTrigger(
                runID: .fixture(1), flow: "f", version: 2, input: ["repo": "keel", "n": 3], actor: "alice",
                requester: "amqp:ci", correlationID: "c1", idempotencyKey: "k1", replyTo: "amq.gen-1")),
        .runTriggered(
            RunTrigger(
                runID: .fixture(1), flow: "f", version: 2, input: [:], correlationID: "c1",
                idempotencyKey: "k1")),
        .stepScheduled(
            ScheduledAttempt(
                step: "a", attempt: 1, idempotencyKey: "r1:a:1", runsOn: ["gpu"], shardKey: "keel",
                concurrency: [ConcurrencyClaim(scope: .flow, key: "keel", limit: 1)],
                changeRequest: ChangeRequest(note: "fix", actor: "bob", round: 1))),
        .stepStarted(step: "a", attempt: 1, executor: "exec-1", leaseToken: 42),
        .stepSucceeded(step: "a", attempt: 1, outputs: ["diff": "sha256:x", "rows": [1, 2]]),
        .stepFailed(step: "a", attempt: 2, errorClass: .transient, message: "exit 75"),
        .stepRetryScheduled(step: "a", attempt: 3, delay: FlowDuration(milliseconds: 1_500), dueAt: at),
        .stepSkipped(step: "b", reason: "need 'a' failed"),
        .stepTimedOut(step: "a", attempt: 3, timeout: .queue),
        .stepCancelled(step: "a", attempt: 3, reason: "stop"),
        .timerFired(timerID: "r1:a:3:retry"),
        .runCancelRequested(actor: "carol", reason: "wrong"),
        .runCancelRequested(actor: nil, reason: "wrong"),
        .runRetryRequested(fromStep: "a", pass: 1, actor: "dave"),
        .waitOpened(step: "w", attempt: 1, waitID: "r1:w:1:wait"),
        .callbackReceived(step: "w", waitID: "r1:w:1:wait", status: .partial, output: ["p50_ms": 1.5]),
        .approvalRequested(
            ApprovalRequest(
                step: "review", attempt: 1, approvalID: "r1:review:1:approval", summary: "ok?", bound: ["x"])),
        .approvalDecided(
            step: "review", approvalID: "r1:review:1:approval", decision: .requestChanges, actor: "bob",
            note: "n"),
        .runFinished(outcome: .failed, reason: nil),
    ]

    @Test func everyFactRoundTripsThroughJSON() throws {
        for (index, event) in Self.events.enumerated() {
            let fact = RunFact(at: Self.at, event: event, derived: index % 2 == 0)
            let data = try JSONEncoder().encode(fact)
            let decoded = try JSONDecoder().decode(RunFact.self, from: data)
            #expect(decoded == fact, "\(event.kind)")
        }
    }

    @Test func jsonShapeIsFlatWithSnakeCaseFields() throws {
        let fact = RunFact(
            at: Self.at,
            event: .stepFailed(step: "a", attempt: 2, errorClass: .transient, message: "exit 75"),
            derived: false)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(fact), as: UTF8.self)
        #expect(
            text
                == #"{"at":"2026-11-27T02:22:42.123Z","attempt":2,"error_class":"transient","kind":"step.failed","message":"exit 75","step":"a"}"#
        )
        let derived = RunFact(at: Self.at, event: .stepSkipped(step: "b", reason: "r"), derived: true)
        let derivedText = String(decoding: try encoder.encode(derived), as: UTF8.self)
        #expect(
            derivedText
                == #"{"at":"2026-11-27T02:22:42.123Z","derived":true,"kind":"step.skipped","reason":"r","step":"b"}"#
        )
    }

    @Test func unknownKindsAndValuesAreErrors() {
        let bad = [
            #"{"kind":"step.exploded","at":"2026-11-27T02:22:42.123Z"}"#,
            #"{"kind":"step.failed","at":"2026-11-27T02:22:42.123Z","step":"a","attempt":1,"error_class":"odd","message":"m"}"#,
            #"{"kind":"timer.fired","at":"yesterday","timer_id":"t"}"#,
        ]
        for text in bad {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode(RunFact.self, from: Data(text.utf8))
            }
        }
    }

    @Test func unknownFieldsAreIgnored() throws {
        let text = #"{"kind":"timer.fired","at":"2026-11-27T02:22:42.123Z","timer_id":"t","future":1}"#
        let fact = try JSONDecoder().decode(RunFact.self, from: Data(text.utf8))
        #expect(fact.event == .timerFired(timerID: "t"))
        #expect(!fact.derived)
    }

    @Test func historyColumnsComeFromTheEvent() {
        let failed = RunFact.Event.stepFailed(step: "a", attempt: 2, errorClass: .transient, message: "m")
        #expect(
            failed.kind == "step.failed" && failed.step == "a" && failed.attempt == 2
                && failed.errorClass == .transient)
        #expect(RunFact.Event.stepTimedOut(step: "a", attempt: 1, timeout: .step).errorClass == .timeout)
        #expect(RunFact.Event.runCancelRequested(actor: "carol", reason: "r").actor == "carol")
        #expect(RunFact.Event.runFinished(outcome: .succeeded, reason: nil).step == nil)
    }

    @Test func snapshotRestoresAMidRunStateAndRefusesAnotherFlow() throws {
        var run = try EngineHarness(
            """
            flow: snap
            timeout: 1h
            steps:
              - {id: a, noop: {}, queue_timeout: 1m, retry: {max_attempts: 3}}
              - {id: w, wait: {timeout: 1h, heartbeat: 1m}}
            """)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        let data = try JSONEncoder().encode(RunSnapshot(run.state))
        let snapshot = try JSONDecoder().decode(RunSnapshot.self, from: data)
        let restored = try #require(snapshot.state(flow: run.reducer.flow))
        #expect(restored == run.state)
        #expect(restored.timers == run.state.timers)
        let other = try FlowTest.parse("flow: snap\nsteps: [{id: b, noop: {}}]\n")
        #expect(snapshot.state(flow: other) == nil)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"round_start\"") && text.contains("\"run_deadline\""))
    }

    @Test func timestampsWriteAndReadRFC3339() throws {
        #expect(Timestamp(millisecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Self.at.description == "2026-11-27T02:22:42.123Z")
        #expect(Timestamp(millisecondsSinceEpoch: 951_782_400_000).description == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(parsing: "2026-11-27T02:22:42.123Z") == Self.at)
        #expect(Timestamp(parsing: "2026-11-27T03:22:42.123456+01:00") == Self.at)
        #expect(Timestamp(parsing: "2026-11-27T02:22:42Z")?.millisecondsSinceEpoch == 1_795_746_162_000)
        #expect(Timestamp(parsing: "2026-11-27T02:22:42.1Z")?.millisecondsSinceEpoch == 1_795_746_162_100)
        for bad in [
            "", "2026-11-27", "2026-02-30T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T02:22:42",
            "2026-11-27T02:22:42.Z",
        ] {
            #expect(Timestamp(parsing: bad) == nil, "\(bad)")
        }
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let value = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &random)
            let stamp = Timestamp(millisecondsSinceEpoch: value)
            #expect(Timestamp(parsing: stamp.description) == stamp)
        }
    }
}
