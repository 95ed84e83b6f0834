import Testing

@testable import KeelCore

@Suite("Engine: timeouts")
struct EngineTimeoutTests {
    @Test func stepTimeoutCoversAllAttemptsAndIsFinal() throws {
        var run = try EngineHarness(
            """
            flow: t
            steps:
              - {id: a, noop: {}, timeout: 1m, retry: {max_attempts: 5, initial: 10s, jitter: false}}
              - {id: b, needs: [a], noop: {}}
            """)
        run.trigger()
        let timer = try #require(run.timer(.stepTimeout(step: "a")))
        #expect(timer.id == "\(run.runID):a:1:step-timeout")
        #expect(timer.due == run.at.adding(milliseconds: 60_000))
        #expect(run.commands.contains(.startTimer(timer)))
        run.start("a")
        run.fail("a", .transient)
        run.fire(.retry(step: "a", attempt: 2))
        run.start("a")
        #expect(run.timer(.stepTimeout(step: "a"))?.due == timer.due)
        run.fire(.stepTimeout(step: "a"))
        #expect(run.step("a").status == .timedOut)
        #expect(run.step("a").errorClass == .timeout)
        #expect(
            run.commands.contains(
                .stopAttempt(
                    step: "a", attempt: 2, idempotencyKey: "\(run.runID):a:2",
                    reason: "the step's timeout passed")))
        #expect(run.step("b").status == .skipped)
        #expect(run.state.outcome == .failed)
        #expect(run.published.contains("step.failed.t.a"))
        // The attempt's late result changes nothing.
        #expect(run.feed(.stepSucceeded(step: "a", attempt: 2, outputs: [:])).ignored)
        run.checkHistory()
    }

    @Test func stepTimeoutIsCancelledWhenTheStepFinishes() throws {
        var run = try EngineHarness(
            "flow: t\nsteps: [{id: a, noop: {}, timeout: 1m}, {id: b, needs: [a], noop: {}}]\n")
        run.trigger()
        let id = try #require(run.timer(.stepTimeout(step: "a"))?.id)
        run.complete("a")
        #expect(run.commands.contains(.cancelTimer(id: id)))
        #expect(run.feed(.timerFired(timerID: id)).ignored)
    }

    @Test func queueTimeoutFailsAnUnstartedAttemptAsTimeoutAndRetries() throws {
        var run = try EngineHarness(
            "flow: t\nsteps:\n  - {id: a, noop: {}, queue_timeout: 30s, retry: {max_attempts: 2, initial: 1s, jitter: false}}\n"
        )
        run.trigger()
        let timer = try #require(run.timer(.queueTimeout(step: "a", attempt: 1)))
        #expect(timer.due == run.at.adding(milliseconds: 30_000))
        run.fire(.queueTimeout(step: "a", attempt: 1))
        #expect(run.history.contains { $0.event == .stepTimedOut(step: "a", attempt: 1, timeout: .queue) })
        #expect(
            run.commands.contains {
                if case .stopAttempt(step: "a", attempt: 1, _, _) = $0 { true } else { false }
            })
        #expect(run.step("a").status == .retrying)
        run.fire(.retry(step: "a", attempt: 2))
        run.start("a")
        #expect(run.timer(.queueTimeout(step: "a", attempt: 2)) == nil)
        run.succeed("a")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func startingCancelsTheQueueTimeout() throws {
        var run = try EngineHarness("flow: t\nsteps: [{id: a, noop: {}, queue_timeout: 30s}]\n")
        run.trigger()
        let id = try #require(run.timer(.queueTimeout(step: "a", attempt: 1))?.id)
        run.start("a")
        #expect(run.commands == [.cancelTimer(id: id)])
    }

    @Test func runTimeoutCancelsTheRun() throws {
        var run = try EngineHarness(
            """
            flow: t
            timeout: 1h
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
            """)
        run.trigger()
        let timer = try #require(run.timer(.runTimeout))
        #expect(timer.id == "\(run.runID):run-timeout:1")
        #expect(timer.due == run.at.adding(milliseconds: 3_600_000))
        run.start("a")
        run.fire(.runTimeout)
        #expect(run.state.outcome == .cancelled)
        #expect(run.state.finishReason == "the run's timeout passed")
        #expect(run.step("a").status == .cancelled)
        #expect(run.step("b").status == .cancelled)
        #expect(
            run.commands.contains {
                if case .stopAttempt(step: "a", attempt: 1, _, _) = $0 { true } else { false }
            })
        #expect(run.published.contains("run.cancelled.t"))
        run.checkHistory()
    }

    @Test func waitTimeoutAndHeartbeatLoss() throws {
        let yaml = """
            flow: w
            steps:
              - id: job
                wait: {timeout: 1h, heartbeat: 5m}
            """
        var run = try EngineHarness(yaml)
        run.trigger()
        let waitID = try #require(run.step("job").waitID)
        run.advance(ms: 60_000)
        run.feed(.callbackReceived(step: "job", waitID: waitID, status: .heartbeat, output: ["progress": 10]))
        let heartbeat = try #require(run.timer(.heartbeat(step: "job", attempt: 1)))
        #expect(heartbeat.id == "\(run.runID):job:1:heartbeat:1")
        #expect(heartbeat.due == run.at.adding(milliseconds: 300_000))
        #expect(run.commands.contains(.cancelTimer(id: "\(run.runID):job:1:heartbeat:0")))
        #expect(run.commands.contains(.startTimer(heartbeat)))
        run.fire(.heartbeat(step: "job", attempt: 1))
        #expect(run.step("job").status == .timedOut)
        #expect(
            run.history.contains { $0.event == .stepTimedOut(step: "job", attempt: 1, timeout: .heartbeat) })
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.state.outcome == .failed)
        run.checkHistory()

        var second = try EngineHarness(yaml)
        second.trigger()
        for _ in 0..<12 {
            second.advance(ms: 240_000)
            let id = try #require(second.step("job").waitID)
            second.feed(.callbackReceived(step: "job", waitID: id, status: .heartbeat, output: nil))
        }
        second.fire(.waitTimeout(step: "job", attempt: 1))
        #expect(
            second.history.contains { $0.event == .stepTimedOut(step: "job", attempt: 1, timeout: .wait) })
        second.checkHistory()
    }

    @Test func approvalTimeoutActions() throws {
        func run(_ action: String) throws -> EngineHarness {
            var run = try EngineHarness(
                """
                flow: a
                steps:
                  - id: review
                    approval: {approvers: [bob], timeout: 1h, on_timeout: \(action)}
                    retry: {max_attempts: 2, initial: 1s, jitter: false}
                  - {id: after, needs: [review], noop: {}}
                """)
            run.trigger()
            run.fire(.approvalTimeout(step: "review", attempt: 1))
            return run
        }
        let rejected = try run("reject")
        #expect(rejected.step("review").status == .failed)
        #expect(rejected.step("review").decision == .reject)
        #expect(rejected.history.last { $0.event.kind == "approval.decided" }?.derived == true)
        #expect(rejected.state.outcome == .failed)
        rejected.checkHistory()

        let approved = try run("approve")
        #expect(approved.step("review").status == .succeeded)
        #expect(approved.dispatched == ["after"])
        approved.checkHistory()

        var failed = try run("fail")
        #expect(
            failed.history.contains {
                $0.event == .stepTimedOut(step: "review", attempt: 1, timeout: .approval)
            })
        #expect(failed.step("review").status == .retrying)
        failed.fire(.retry(step: "review", attempt: 2))
        #expect(failed.step("review").approvalID == "\(failed.runID):review:2:approval")
        failed.checkHistory()
    }
}
