import Testing

@testable import KeelCore

@Suite("Engine: waits and approvals")
struct EngineWaitApprovalTests {
    private let waitFlow = """
        flow: w
        steps:
          - id: job
            wait: {timeout: 1h, heartbeat: 10m}
          - {id: ok, needs: [job], if: "${{ steps.job.status == 'succeeded' }}", noop: {}}
          - {id: partly, needs: [job], if: "${{ steps.job.status == 'partial' }}", noop: {}}
          - {id: broken, needs: [job], if: "${{ steps.job.status == 'failed' }}", noop: {}}
        """

    @Test func waitStepOpensAWaitAndResumesOnItsCallback() throws {
        var run = try EngineHarness(waitFlow)
        run.trigger()
        let waitID = "\(run.runID):job:1:wait"
        #expect(run.step("job").status == .waiting)
        #expect(run.dispatched.isEmpty)
        #expect(
            run.commands.contains(
                .openWait(
                    step: "job", attempt: 1, waitID: waitID,
                    timeoutAt: run.at.adding(milliseconds: 3_600_000),
                    heartbeatAt: run.at.adding(milliseconds: 600_000))))
        #expect(
            run.feed(.callbackReceived(step: "job", waitID: "forged", status: .succeeded, output: nil))
                .ignored)
        run.feed(.callbackReceived(step: "job", waitID: waitID, status: .succeeded, output: ["p50_ms": 12]))
        #expect(run.step("job").outputs == ["p50_ms": 12])
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.dispatched == ["ok"])
        #expect(run.step("partly").status == .skipped)
        #expect(
            run.feed(.callbackReceived(step: "job", waitID: waitID, status: .failed, output: nil)).ignored)
        run.checkHistory()
    }

    @Test func partialAndFailedCallbacksTakeTheirPaths() throws {
        var partial = try EngineHarness(waitFlow)
        partial.trigger()
        partial.feed(
            .callbackReceived(step: "job", waitID: "\(partial.runID):job:1:wait", status: .partial, output: 5)
        )
        #expect(partial.step("job").status == .partial)
        #expect(partial.step("job").outputs == ["output": 5])
        #expect(partial.dispatched == ["partly"])

        var failed = try EngineHarness(waitFlow)
        failed.trigger()
        failed.feed(
            .callbackReceived(step: "job", waitID: "\(failed.runID):job:1:wait", status: .failed, output: nil)
        )
        #expect(failed.step("job").status == .failed)
        #expect(failed.dispatched == ["broken"])
        failed.complete("broken")
        #expect(failed.state.outcome == .succeeded)  // handled by `broken`
        failed.checkHistory()
    }

    @Test func sshStepWithWaitWaitsAfterItsCommand() throws {
        var run = try EngineHarness(
            """
            flow: s
            steps:
              - id: bench
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 2h}
            """)
        run.trigger()
        #expect(run.dispatched == ["bench"])
        run.complete("bench", outputs: ["pid": 42])
        #expect(run.step("bench").status == .waiting)
        // What the start reported stays while the step waits (the reaper finds the job by it).
        #expect(run.step("bench").outputs == ["pid": 42])
        let waitID = try #require(run.step("bench").waitID)
        #expect(run.history.last?.event == .waitOpened(step: "bench", attempt: 1, waitID: waitID))
        #expect(run.published.isEmpty)
        #expect(run.feed(.stepSucceeded(step: "bench", attempt: 1, outputs: [:])).ignored)
        run.fire(.waitTimeout(step: "bench", attempt: 1))
        // The reaper stops the remote job.
        #expect(
            run.commands.contains {
                if case .stopAttempt(step: "bench", attempt: 1, _, _) = $0 { true } else { false }
            })
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func cancellingAWaitingSSHJobStopsIt() throws {
        var run = try EngineHarness(
            """
            flow: s
            steps:
              - id: bench
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 2h}
            """)
        run.trigger()
        run.complete("bench")
        let waitID = try #require(run.step("bench").waitID)
        run.feed(.runCancelRequested(actor: "op", reason: "enough"))
        #expect(
            run.commands.contains(
                .stopAttempt(
                    step: "bench", attempt: 1, idempotencyKey: "\(run.runID):bench:1", reason: "enough")))
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        run.checkHistory()
    }

    @Test func partialCountsAsSuccessForDependents() throws {
        var run = try EngineHarness(
            """
            flow: p
            steps:
              - {id: job, wait: {timeout: 1h}}
              - {id: next, needs: [job], noop: {}}
            """)
        run.trigger()
        let waitID = try #require(run.step("job").waitID)
        run.feed(.callbackReceived(step: "job", waitID: waitID, status: .partial, output: ["done": 3]))
        #expect(run.dispatched == ["next"])
        run.complete("next")
        #expect(run.state.outcome == .succeeded)
    }

    @Test func approvalSummaryThatCannotBeRenderedFailsTheStep() throws {
        var run = try EngineHarness(
            """
            flow: a
            steps:
              - id: review
                approval: {approvers: [bob], summary: "${{ fromJSON(input.text) }}"}
            """)
        run.trigger(input: ["text": "{"])
        #expect(run.step("review").status == .failed)
        #expect(run.step("review").message?.hasPrefix("steps.review.approval.summary: ") == true)
        #expect(run.state.outcome == .failed)
        #expect(!run.commands.contains { if case .requestApproval = $0 { true } else { false } })
    }

    private let approvalFlow = """
        flow: change
        steps:
          - {id: patch, noop: {}, outputs: {diff: inline}}
          - {id: test, needs: [patch], noop: {}}
          - id: review
            needs: [test]
            approval:
              approvers: [bob, "group:reviewers"]
              summary: "Apply ${{ steps.patch.outputs.diff }}?"
              bind: ["${{ steps.patch.outputs.diff }}"]
              timeout: 1d
              reminder: 1h
              request_changes: {step: patch, max_rounds: 1}
          - {id: apply, needs: [review], noop: {}}
          - {id: notify, needs: [review], if: "${{ steps.review.decision == 'reject' }}", noop: {}}
        """

    private func reviewing() throws -> EngineHarness {
        var run = try EngineHarness(approvalFlow)
        // The body claims mallory; the broker authenticated alice: the gate's requester is alice.
        run.trigger(actor: "mallory", requester: "alice")
        run.complete("patch", outputs: ["diff": "sha256:abc"])
        run.complete("test")
        return run
    }

    @Test func approvalIsRequestedWithRenderedSummaryAndBinding() throws {
        let run = try reviewing()
        let request = ApprovalRequest(
            step: "review", attempt: 1, approvalID: "\(run.runID):review:1:approval",
            summary: "Apply sha256:abc?",
            bound: ["sha256:abc"])
        #expect(run.history.last?.event == .approvalRequested(request))
        #expect(
            run.commands.contains(
                .requestApproval(
                    request, requester: "alice", timeoutAt: run.at.adding(milliseconds: 86_400_000),
                    reminderAt: run.at.adding(milliseconds: 3_600_000))))
        #expect(run.published == ["step.succeeded.change.test", "approval.requested.change"])
    }

    @Test func approveLetsTheRunThrough() throws {
        var run = try reviewing()
        let approvalID = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .approve, actor: "bob", note: "ok"))
        #expect(run.step("review").decision == .approve)
        #expect(run.step("review").outputs == ["decision": "approve", "actor": "bob", "note": "ok"])
        #expect(run.dispatched == ["apply"])
        #expect(run.step("notify").status == .skipped)
        #expect(run.commands.contains(.closeApproval(approvalID: approvalID)))
        #expect(
            run.feed(
                .approvalDecided(
                    step: "review", approvalID: approvalID, decision: .reject, actor: "eve", note: nil)
            ).ignored)
        run.complete("apply")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func rejectTakesTheFailurePath() throws {
        var run = try reviewing()
        let approvalID = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .reject, actor: "bob", note: "no"))
        #expect(run.step("review").status == .failed)
        #expect(run.step("apply").status == .skipped)
        #expect(run.dispatched == ["notify"])
        run.complete("notify")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func requestChangesSendsTheRunBackThenAsksAgain() throws {
        var run = try reviewing()
        let first = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: first, decision: .requestChanges, actor: "bob", note: "rename x"))
        #expect(run.commands.contains(.closeApproval(approvalID: first)))
        #expect(run.dispatched == ["patch"])
        guard
            case .dispatch(let dispatch)? = run.commands.first(where: {
                if case .dispatch = $0 { true } else { false }
            })
        else {
            Issue.record("no dispatch")
            return
        }
        #expect(dispatch.attempt == 2)
        #expect(dispatch.changeRequest == ChangeRequest(note: "rename x", actor: "bob", round: 1))
        #expect(run.step("test").status == .pending)
        run.complete("patch", outputs: ["diff": "sha256:def"])
        #expect(run.step("patch").changeRequest == nil)
        run.complete("test")
        let second = try #require(run.step("review").approvalID)
        #expect(second == "\(run.runID):review:2:approval")
        // Out of rounds: the gate asks again without sending the run back.
        run.feed(
            .approvalDecided(
                step: "review", approvalID: second, decision: .requestChanges, actor: "bob", note: "more"))
        #expect(run.dispatched.isEmpty)
        #expect(run.step("patch").attempt == 2)
        #expect(run.step("review").approvalID == "\(run.runID):review:3:approval")
        let third = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(step: "review", approvalID: third, decision: .approve, actor: "bob", note: nil))
        run.complete("apply")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func requestChangesStopsWorkItAbandons() throws {
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
        let approvalID = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .requestChanges, actor: "bob", note: nil))
        #expect(
            run.commands.contains(
                .stopAttempt(
                    step: "lint", attempt: 1, idempotencyKey: "\(run.runID):lint:1",
                    reason: "changes were requested")))
        #expect(run.feed(.stepSucceeded(step: "lint", attempt: 1, outputs: [:])).ignored)
        run.checkHistory()
    }

    @Test func requestChangesWithoutARuleIsARejection() throws {
        var run = try EngineHarness("flow: c\nsteps:\n  - {id: review, approval: {approvers: [bob]}}\n")
        run.trigger()
        let approvalID = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .requestChanges, actor: "bob", note: nil))
        #expect(run.step("review").status == .failed)
        #expect(run.step("review").decision == .requestChanges)
        #expect(run.state.outcome == .failed)
    }

    @Test func reminderPublishesOnce() throws {
        var run = try reviewing()
        run.fire(.approvalReminder(step: "review", attempt: 1))
        #expect(run.published == ["approval.reminder.change"])
        #expect(run.timer(.approvalReminder(step: "review", attempt: 1)) == nil)
        #expect(run.timer(.approvalTimeout(step: "review", attempt: 1)) != nil)
        #expect(run.step("review").status == .waiting)
        run.checkHistory()
    }
}
