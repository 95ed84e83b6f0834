import Foundation
import Testing

@testable import KeelCore

/// Histories made by driving the real reducer (so they are exactly what the engine records), read back
/// as timelines.
@Suite("RunTimeline")
struct RunTimelineTests {
    private let origin: Int64 = 1_800_000_000_000
    private let digest = String(repeating: "ab", count: 32)

    private func read(_ run: EngineHarness) throws -> RunTimeline {
        try RunTimeline(flow: run.reducer.flow, history: run.history)
    }

    private func at(_ offset: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: origin + offset) }

    @Test func aTriggeredRunIsPendingWithItsTriggerAndEveryStepInDeclarationOrder() throws {
        let flow = try FlowTest.parse(
            """
            flow: p
            steps:
              - {id: b, needs: [a], noop: {}}
              - {id: a, noop: {}}
            """)
        let trigger = RunFact(
            at: at(0),
            event: .runTriggered(
                RunTrigger(
                    runID: .fixture(1), flow: "p", version: 4, input: ["task": "fix the bug"], actor: "ana",
                    correlationID: "corr-9", idempotencyKey: "k-1")))
        let timeline = try RunTimeline(flow: flow, history: [trigger])
        #expect(timeline.status == .pending)
        #expect(timeline.runID == .fixture(1) && timeline.flow == "p" && timeline.version == 4)
        #expect(timeline.trigger.actor == "ana")
        #expect(timeline.trigger.correlationID == "corr-9")
        #expect(timeline.trigger.inputSummary() == #"{"task":"fix the bug"}"#)
        #expect(timeline.trigger.inputSummary(limit: 11) == #"{"task":"f…"#)
        #expect(timeline.steps.map(\.id) == ["b", "a"])
        #expect(timeline.steps.allSatisfy { $0.status == .pending && $0.attempts.isEmpty })
        #expect(timeline.finishedAt == nil && timeline.durationMilliseconds == nil && timeline.outcome == nil)
        #expect(throws: RunTimelineError.notTriggered) {
            try RunTimeline(flow: flow, history: [RunFact(at: at(0), event: .timerFired(timerID: "x"))])
        }
    }

    @Test func retriesKeepEveryAttemptWithItsTimesErrorAndTheRetryDecision() throws {
        var run = try EngineHarness(
            """
            flow: r
            steps:
              - {id: build, run: {command: [make]}, retry: {max_attempts: 3, initial: 5s, jitter: false}}
            """)
        run.trigger()
        run.advance(ms: 12)
        run.start("build")
        run.advance(ms: 1_000)
        run.fail("build", .transient, message: "connection reset")
        run.fire(.retry(step: "build", attempt: 2))
        run.advance(ms: 30)
        run.start("build")
        run.advance(ms: 2_000)
        run.succeed(
            "build",
            outputs: [
                "report": ["$resource": .string("res:sha256:" + digest), "size": 3],
                "log": .string("res:sha256:" + digest), "count": 1,
            ])
        let timeline = try read(run)
        #expect(timeline.status == .succeeded && timeline.outcome == .succeeded)
        // 12 ms queued, 1 s failing, the 5 s retry delay, 30 ms queued, 2 s succeeding.
        #expect(timeline.durationMilliseconds == 8_042)
        let build = try #require(timeline.step("build"))
        #expect(build.status == .succeeded)
        #expect(build.attempts.map(\.attempt) == [1, 2])
        let first = build.attempts[0]
        #expect(first.scheduledAt == at(0))
        #expect(first.startedAt == at(12))
        #expect(first.executor == "exec-1" && first.claims == 1)
        #expect(first.queueMilliseconds == 12)
        #expect(first.durationMilliseconds == 1_000)
        #expect(first.outcome == .failed)
        #expect(first.errorClass == .transient && first.message == "connection reset")
        #expect(
            first.retry
                == AttemptTimeline.RetryDecision(
                    attempt: 2, delay: FlowDuration(milliseconds: 5_000), dueAt: at(6_012)))
        let second = build.attempts[1]
        #expect(second.scheduledAt == at(6_012))
        #expect(second.queueMilliseconds == 30)
        #expect(second.durationMilliseconds == 2_000)
        #expect(second.outcome == .succeeded && second.errorClass == nil && second.retry == nil)
        #expect(second.resources.map(\.description) == ["res:sha256:" + digest])
        #expect(second.outputs["count"] == 1)
    }

    @Test func aFailedNeedSkipsTheBranchAndFailsTheRun() throws {
        var run = try EngineHarness(
            """
            flow: s
            steps:
              - {id: test, noop: {}}
              - {id: deploy, needs: [test], noop: {}}
              - {id: notify, needs: [deploy], noop: {}}
              - {id: lint, noop: {}}
            """)
        run.trigger()
        run.complete("lint")
        run.start("test")
        run.fail("test", .permanent, message: "3 tests failed")
        let timeline = try read(run)
        #expect(timeline.status == .failed && timeline.outcome == .failed)
        #expect(timeline.finishedAt != nil)
        let deploy = try #require(timeline.step("deploy"))
        #expect(deploy.status == .skipped)
        #expect(deploy.skipReason == "need 'test' failed")
        #expect(deploy.attempts.isEmpty)
        #expect(timeline.step("notify")?.skipReason == "need 'deploy' skipped")
        #expect(timeline.step("lint")?.status == .succeeded)
        #expect(timeline.step("test")?.attempts.first?.message == "3 tests failed")
        #expect(timeline.step("test")?.skipReason == nil)
    }

    @Test func queueAndStepTimeoutsEndTheAttemptInFlight() throws {
        var run = try EngineHarness(
            """
            flow: t
            steps:
              - {id: q, noop: {}, queue_timeout: 1m}
              - {id: s, noop: {}, timeout: 2m, retry: {max_attempts: 5, initial: 1m, jitter: false}}
            """)
        run.trigger()
        run.start("s")
        run.advance(ms: 500)
        run.fail("s", .transient)
        run.fire(.queueTimeout(step: "q", attempt: 1))
        run.fire(.retry(step: "s", attempt: 2))
        run.fire(.stepTimeout(step: "s"))
        let timeline = try read(run)
        let queued = try #require(timeline.step("q")?.attempts.first)
        #expect(queued.outcome == .timedOut && queued.timeout == .queue && queued.errorClass == .timeout)
        #expect(queued.message == "the queue timeout passed")
        #expect(
            queued.startedAt == nil && queued.queueMilliseconds == nil && queued.durationMilliseconds == nil)
        #expect(queued.finishedAt == at(60_000))
        let step = try #require(timeline.step("s"))
        #expect(step.status == .timedOut)
        #expect(step.message == "the step timeout passed")
        #expect(step.attempts.map(\.attempt) == [1, 2])
        #expect(step.attempts[0].outcome == .failed && step.attempts[0].retry?.dueAt == at(60_500))
        let second = step.attempts[1]
        #expect(second.scheduledAt == at(60_500))
        #expect(second.outcome == .timedOut && second.timeout == .step && second.finishedAt == at(120_000))
        #expect(second.retry == nil)
        #expect(timeline.status == .failed)
    }

    @Test func aCancelStopsTheRunningAttemptAndCancelsStepsNotBegun() throws {
        var run = try EngineHarness(
            """
            flow: c
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
            """)
        run.trigger()
        run.start("a")
        run.advance(ms: 250)
        run.feed(.runCancelRequested(actor: "carol", reason: "wrong branch"))
        run.advance(ms: 100)
        run.succeed("a")  // too late: ignored by the engine, so by the timeline
        let timeline = try read(run)
        #expect(timeline.status == .cancelled && timeline.outcome == .cancelled)
        #expect(timeline.reason == "wrong branch")
        #expect(
            timeline.cancellation
                == RunTimeline.CancelRequest(at: at(250), actor: "carol", reason: "wrong branch"))
        #expect(timeline.durationMilliseconds == 250)
        let a = try #require(timeline.step("a")?.attempts.first)
        #expect(a.outcome == .cancelled && a.message == "wrong branch" && a.durationMilliseconds == 250)
        let b = try #require(timeline.step("b"))
        #expect(b.status == .cancelled && b.attempts.isEmpty && b.message == "wrong branch")
    }

    @Test func factsTheEngineIgnoredLeaveNoTrace() throws {
        var run = try EngineHarness("flow: d\nsteps:\n  - {id: a, noop: {}}\n")
        run.trigger()
        run.start("a")
        run.advance(ms: 40)
        run.succeed("a", outputs: ["n": 1])
        let clean = try read(run)
        // A history that recorded a redelivered result, a second start and a late cancel anyway.
        var recorded = run.history
        recorded.insert(
            RunFact(at: at(20), event: .stepStarted(step: "a", attempt: 1, executor: "other", leaseToken: 1)),
            at: recorded.count - 2)
        recorded.append(RunFact(at: at(90), event: .stepSucceeded(step: "a", attempt: 1, outputs: ["n": 2])))
        recorded.append(RunFact(at: at(95), event: .runCancelRequested(actor: nil, reason: "late")))
        #expect(try RunTimeline(flow: run.reducer.flow, history: recorded) == clean)
        #expect(clean.step("a")?.attempts.first?.outputs == ["n": 1])
    }

    @Test func waitsAndApprovalsShowWhenTheyOpenedAndWhatAnsweredThem() throws {
        var run = try EngineHarness(
            """
            flow: w
            steps:
              - {id: job, wait: {timeout: 1h, heartbeat: 10m}}
              - id: review
                needs: [job]
                approval: {approvers: [bob], summary: "Ship ${{ steps.job.outputs.build }}?"}
            """)
        run.trigger()
        let waitID = try #require(run.step("job").waitID)
        run.advance(ms: 60_000)
        run.feed(.callbackReceived(step: "job", waitID: waitID, status: .heartbeat, output: nil))
        run.advance(ms: 60_000)
        run.feed(
            .callbackReceived(
                step: "job", waitID: waitID, status: .succeeded,
                output: ["build": "b-7", "bundle": .string("res:sha256:" + digest)]))
        let approvalID = try #require(run.step("review").approvalID)
        run.advance(ms: 5_000)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .approve, actor: "bob", note: "ok"))
        let timeline = try read(run)
        #expect(timeline.status == .succeeded)
        let job = try #require(timeline.step("job")?.attempts.first)
        #expect(job.wait?.id == waitID && job.wait?.openedAt == at(0))
        #expect(job.wait?.heartbeats == 1 && job.wait?.lastHeartbeatAt == at(60_000))
        #expect(job.wait?.callbackStatus == .succeeded && job.wait?.callbackAt == at(120_000))
        #expect(job.outcome == .succeeded && job.durationMilliseconds == 120_000)
        #expect(job.startedAt == nil && job.queueMilliseconds == nil)
        #expect(job.resources.count == 1)
        let review = try #require(timeline.step("review")?.attempts.first)
        #expect(review.approval?.summary == "Ship b-7?")
        #expect(review.approval?.requestedAt == at(120_000))
        #expect(review.approval?.decision == .approve && review.approval?.actor == "bob")
        #expect(review.approval?.note == "ok" && review.approval?.decidedAt == at(125_000))
        #expect(review.outcome == .succeeded && review.durationMilliseconds == 5_000)
        // While the approval is open, nothing else is in flight: the run is waiting.
        var open = run.history
        open.removeLast(open.count - (open.lastIndex { $0.event.kind == "approval.requested" } ?? 0) - 1)
        #expect(try RunTimeline(flow: run.reducer.flow, history: open).status == .waiting)
    }

    @Test func anSSHStepWithWaitKeepsOneAttemptFromItsCommandToItsCallback() throws {
        var run = try EngineHarness(
            """
            flow: s
            steps:
              - id: bench
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 2h}
            """)
        run.trigger()
        run.advance(ms: 10)
        run.start("bench")
        run.advance(ms: 1_000)
        run.succeed("bench", outputs: ["pid": 42])
        var bench = try #require(try read(run).step("bench"))
        #expect(bench.status == .waiting)
        #expect(bench.attempts.count == 1)
        #expect(bench.attempts[0].isInFlight && bench.attempts[0].outcome == nil)
        #expect(bench.attempts[0].wait?.openedAt == at(1_010))
        #expect(try read(run).status == .waiting)
        let waitID = try #require(run.step("bench").waitID)
        run.advance(ms: 4_000)
        run.feed(
            .callbackReceived(
                step: "bench", waitID: waitID, status: .failed,
                output: ["report": .string("res:sha256:" + digest)]))
        bench = try #require(try read(run).step("bench"))
        let attempt = try #require(bench.attempts.first)
        #expect(bench.attempts.count == 1)
        #expect(attempt.startedAt == at(10) && attempt.finishedAt == at(5_010))
        #expect(attempt.durationMilliseconds == 5_000)
        #expect(attempt.outcome == .failed && attempt.errorClass == .permanent)
        #expect(attempt.message == "the job reported failure")
        #expect(attempt.wait?.callbackStatus == .failed)
        #expect(attempt.outputs == ["report": .string("res:sha256:" + digest)])
        #expect(attempt.resources.map(\.sha256) == [digest])
    }

    @Test func requestedChangesSendTheRunBackAndStopWorkInFlightThere() throws {
        var run = try EngineHarness(
            """
            flow: c
            steps:
              - {id: patch, noop: {}}
              - {id: lint, needs: [patch], noop: {}}
              - id: review
                needs: [patch]
                approval: {approvers: [bob], request_changes: {step: patch}}
            """)
        run.trigger()
        run.complete("patch")
        run.start("lint")
        let first = try #require(run.step("review").approvalID)
        run.advance(ms: 1_000)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: first, decision: .requestChanges, actor: "bob",
                note: "fix the typo"))
        run.complete("patch")
        run.complete("lint")
        let second = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(step: "review", approvalID: second, decision: .reject, actor: "bob", note: nil))
        let timeline = try read(run)
        let review = try #require(timeline.step("review"))
        #expect(review.attempts.map(\.outcome) == [.changesRequested, .failed])
        #expect(review.attempts[0].message == "fix the typo")
        #expect(review.attempts[0].approval?.decision == .requestChanges)
        #expect(review.attempts[1].message == "rejected by bob")
        #expect(review.status == .failed && review.errorClass == .permanent)
        let patch = try #require(timeline.step("patch"))
        #expect(patch.attempts.map(\.attempt) == [1, 2])
        #expect(
            patch.attempts[1].changeRequest == ChangeRequest(note: "fix the typo", actor: "bob", round: 1))
        let lint = try #require(timeline.step("lint"))
        #expect(lint.attempts.map(\.outcome) == [.cancelled, .succeeded])
        #expect(lint.attempts[0].message == "changes were requested")
        #expect(lint.attempts[0].finishedAt == at(1_000))
        #expect(timeline.status == .failed)
    }

    @Test func aRetryFromAStepAddsAPassWithNewAttempts() throws {
        var run = try EngineHarness(
            """
            flow: p
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
            """)
        run.trigger()
        run.complete("a")
        run.start("b")
        run.fail("b")
        run.advance(ms: 1_000)
        run.feed(.runRetryRequested(fromStep: "b", pass: 1, actor: "dave"))
        var timeline = try read(run)
        #expect(timeline.status == .running && timeline.pass == 2 && timeline.outcome == nil)
        #expect(timeline.finishedAt == nil)
        #expect(
            timeline.retries == [
                RunTimeline.RetryRequest(at: at(1_000), fromStep: "b", pass: 1, actor: "dave")
            ])
        run.complete("b")
        timeline = try read(run)
        #expect(timeline.status == .succeeded && timeline.pass == 2)
        let b = try #require(timeline.step("b"))
        #expect(b.attempts.map(\.attempt) == [1, 2])
        #expect(b.attempts.map(\.pass) == [1, 2])
        #expect(b.attempts.map(\.outcome) == [.failed, .succeeded])
        #expect(timeline.step("a")?.attempts.count == 1)
    }

    @Test func theJSONDocumentHasEveryKeyAlways() throws {
        var run = try EngineHarness("flow: j\nsteps:\n  - {id: a, noop: {}}\n")
        run.trigger()
        let encoder = JSONEncoder()
        let data = try encoder.encode(try read(run))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(object.keys)
                == [
                    "runID", "flow", "version", "status", "outcome", "reason", "pass", "trigger",
                    "triggeredAt",
                    "finishedAt", "durationMs", "cancellation", "retries", "steps", "parent", "children",
                    "usage", "budget",
                ])
        #expect(object["budget"] is NSNull)
        #expect(object["usage"] as? [String: Double] == ["tokens": 0, "machineMinutes": 0, "money": 0])
        #expect(object["parent"] is NSNull)
        #expect(object["children"] as? [Any] != nil)
        #expect(object["status"] as? String == "running")
        #expect(object["outcome"] is NSNull)
        #expect(object["triggeredAt"] as? String == "2027-01-15T08:00:00.000Z")
        let trigger = try #require(object["trigger"] as? [String: Any])
        #expect(trigger["inputSummary"] as? String == "{}")
        let step = try #require((object["steps"] as? [[String: Any]])?.first)
        #expect(step["status"] as? String == "scheduled")
        let attempt = try #require((step["attempts"] as? [[String: Any]])?.first)
        #expect(
            Set(attempt.keys)
                == [
                    "attempt", "pass", "scheduledAt", "startedAt", "executor", "claims", "finishedAt",
                    "queueMs",
                    "durationMs", "outcome", "errorClass", "message", "timeout", "retry", "outputs",
                    "resources",
                    "wait", "approval", "changeRequest",
                ])
        #expect(attempt["startedAt"] is NSNull)
    }

    @Test func resourceReferencesAreFoundAnywhereButBareDigestsAreNot() throws {
        let other = String(repeating: "0", count: 64)
        let value: JSONValue = [
            "a": ["$resource": .string("res:sha256:" + digest)],
            "b": [.string("res:sha256:" + other), .string(other), "res:sha256:short"],
            "c": .string("res:sha256:" + digest),
        ]
        #expect(
            ResourceReference.references(in: value).map(\.description)
                == ["res:sha256:" + other, "res:sha256:" + digest])
    }
}
