import Testing

@testable import KeelCore

/// A wait with an approval beside it: the step ends on whichever comes first — the callback, the
/// decision, a timeout, or the run's cancellation — and the other is closed in the same transition.
@Suite("Engine: wait for a callback or a decision")
struct EngineWaitOrApprovalTests {
    private let flow = """
        flow: w
        steps:
          - id: agent
            wait: {timeout: 1h, heartbeat: 10m}
            approval: {approvers: [bob], summary: "Stop the agent early?"}
          - {id: next, needs: [agent], noop: {}}
        """

    private func opened(_ run: inout EngineHarness) throws -> (wait: String, approval: String) {
        run.trigger()
        let waitID = "\(run.runID):agent:1:wait"
        let approvalID = "\(run.runID):agent:1:approval"
        #expect(run.step("agent").status == .waiting)
        #expect(run.step("agent").waitID == waitID)
        #expect(run.step("agent").approvalID == approvalID)
        #expect(run.derivedKinds == ["wait.opened", "approval.requested"])
        #expect(
            run.commands.contains {
                if case .openWait(step: "agent", attempt: 1, waitID: waitID, _, _) = $0 {
                    true
                } else {
                    false
                }
            })
        #expect(
            run.commands.contains {
                if case .requestApproval(let request, _, _, _) = $0 {
                    request.approvalID == approvalID
                } else {
                    false
                }
            })
        #expect(run.published.contains("approval.requested.w"))
        return (waitID, approvalID)
    }

    @Test func theCallbackWinsAndClosesTheApproval() throws {
        var run = try EngineHarness(flow)
        let (waitID, approvalID) = try opened(&run)
        run.feed(.callbackReceived(step: "agent", waitID: waitID, status: .succeeded, output: ["score": 9]))
        #expect(run.step("agent").status == .succeeded)
        #expect(run.step("agent").outputs == ["score": 9])
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.commands.contains(.closeApproval(approvalID: approvalID)))
        #expect(run.dispatched == ["next"])
        // The decision that comes later changes nothing.
        #expect(
            run.feed(
                .approvalDecided(
                    step: "agent", approvalID: approvalID, decision: .approve, actor: "bob", note: nil)
            ).ignored)
        run.checkHistory()
    }

    @Test func anApprovalWinsAndClosesTheWait() throws {
        var run = try EngineHarness(flow)
        let (waitID, approvalID) = try opened(&run)
        run.feed(
            .approvalDecided(
                step: "agent", approvalID: approvalID, decision: .approve, actor: "bob", note: nil))
        #expect(run.step("agent").status == .succeeded)
        #expect(run.step("agent").decision == .approve)
        #expect(run.step("agent").outputs == ["decided_by": "bob", "decision": "approve"])
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.dispatched == ["next"])
        #expect(!run.state.timers.keys.contains { $0.contains(":agent:1:") })
        // The callback that comes later changes nothing.
        #expect(
            run.feed(.callbackReceived(step: "agent", waitID: waitID, status: .failed, output: nil)).ignored)
        run.checkHistory()
    }

    @Test func aRejectionFailsTheStepForGood() throws {
        var run = try EngineHarness(
            """
            flow: w
            steps:
              - id: agent
                wait: {timeout: 1h}
                approval: {approvers: [bob]}
                retry: {max_attempts: 3, initial: 1s, on: [permanent, timeout]}
            """)
        let (waitID, approvalID) = try opened(&run)
        run.feed(
            .approvalDecided(
                step: "agent", approvalID: approvalID, decision: .reject, actor: "bob", note: "wrong way"))
        #expect(run.step("agent").status == .failed)
        #expect(run.step("agent").errorClass == .permanent)
        #expect(run.step("agent").attempt == 1)
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func theWaitsTimeoutClosesBoth() throws {
        var run = try EngineHarness(flow)
        let (waitID, approvalID) = try opened(&run)
        run.fire(.heartbeat(step: "agent", attempt: 1))
        #expect(run.step("agent").status == .timedOut)
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.commands.contains(.closeApproval(approvalID: approvalID)))
        #expect(run.state.outcome == .failed)
        run.checkHistory()

        var late = try EngineHarness(flow)
        let ids = try opened(&late)
        late.fire(.waitTimeout(step: "agent", attempt: 1))
        #expect(late.step("agent").status == .timedOut)
        #expect(late.commands.contains(.closeWait(waitID: ids.wait)))
        #expect(late.commands.contains(.closeApproval(approvalID: ids.approval)))
        late.checkHistory()
    }

    @Test func aRetryAfterATimeoutAsksAgainWithBoth() throws {
        var run = try EngineHarness(
            """
            flow: w
            steps:
              - id: agent
                wait: {timeout: 1h}
                approval: {approvers: [bob]}
                retry: {max_attempts: 2, initial: 1s, backoff: fixed, jitter: false, on: [timeout]}
            """)
        _ = try opened(&run)
        run.fire(.waitTimeout(step: "agent", attempt: 1))
        #expect(run.step("agent").status == .retrying)
        #expect(run.commands.contains(.closeApproval(approvalID: "\(run.runID):agent:1:approval")))
        run.fire(.retry(step: "agent", attempt: 2))
        #expect(run.step("agent").status == .waiting)
        #expect(run.step("agent").waitID == "\(run.runID):agent:2:wait")
        #expect(run.step("agent").approvalID == "\(run.runID):agent:2:approval")
        run.checkHistory()
    }

    @Test func cancellingTheRunClosesBoth() throws {
        var run = try EngineHarness(flow)
        let (waitID, approvalID) = try opened(&run)
        run.feed(.runCancelRequested(actor: "op", reason: "enough"))
        #expect(run.step("agent").status == .cancelled)
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(run.commands.contains(.closeApproval(approvalID: approvalID)))
        #expect(run.state.outcome == .cancelled)
        run.checkHistory()
    }

    @Test func anSSHJobIsStoppedWhenTheDecisionComesFirst() throws {
        var run = try EngineHarness(
            """
            flow: s
            steps:
              - id: bench
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 2h}
                approval: {approvers: [bob], on_timeout: approve, timeout: 1h}
            """)
        run.trigger()
        run.complete("bench", outputs: ["host": "gpu-1", "pid": 42])
        #expect(run.step("bench").status == .waiting)
        #expect(run.step("bench").outputs == ["host": "gpu-1", "pid": 42])
        let waitID = try #require(run.step("bench").waitID)
        #expect(run.step("bench").approvalID == "\(run.runID):bench:1:approval")
        // Nobody decides: the gate's timeout approves, before the wait's.
        run.fire(.approvalTimeout(step: "bench", attempt: 1))
        #expect(run.step("bench").status == .succeeded)
        #expect(
            run.step("bench").outputs == [
                "decided_by": .null, "decision": "approve", "note": "the approval's timeout passed",
            ])
        #expect(run.commands.contains(.closeWait(waitID: waitID)))
        #expect(
            run.commands.contains {
                if case .stopAttempt(step: "bench", attempt: 1, _, _) = $0 { true } else { false }
            })
        run.checkHistory()
    }

    @Test func aRunStepWithWaitOpensItsWaitWhenTheProgramSucceeds() throws {
        var run = try EngineHarness(
            """
            flow: r
            steps:
              - id: ci
                run: {command: [./trigger-ci.sh]}
                wait: {timeout: 2h}
            """)
        run.trigger()
        #expect(run.dispatched == ["ci"])
        run.complete("ci", outputs: ["exit_code": 0])
        #expect(run.step("ci").status == .waiting)
        let waitID = try #require(run.step("ci").waitID)
        #expect(waitID == "\(run.runID):ci:1:wait")
        #expect(run.published.isEmpty)
        run.feed(.callbackReceived(step: "ci", waitID: waitID, status: .succeeded, output: ["build": 7]))
        #expect(run.step("ci").outputs == ["build": 7])
        #expect(run.state.outcome == .succeeded)
        // Cancelling nothing: a run step's program has exited, no stop is needed.
        #expect(!run.allCommands.contains { if case .stopAttempt = $0 { true } else { false } })
        run.checkHistory()
    }
}

extension EngineWaitOrApprovalTests {
    @Test func anApprovalThatCannotBeRenderedAfterTheCommandFailsTheStepAndTheRunGoesOn() throws {
        var run = try EngineHarness(
            """
            flow: r
            steps:
              - id: ci
                run: {command: [./trigger-ci.sh]}
                wait: {timeout: 2h}
                approval: {approvers: [bob], summary: "${{ fromJSON(input.text) }}"}
              - {id: after, needs: [ci], noop: {}}
            """)
        run.trigger(input: ["text": "{"])
        run.complete("ci")
        #expect(run.step("ci").status == .failed)
        #expect(run.step("ci").message?.hasPrefix("steps.ci.approval.summary: ") == true)
        #expect(run.step("ci").waitID == nil)
        #expect(!run.commands.contains { if case .openWait = $0 { true } else { false } })
        #expect(run.step("after").status == .skipped)
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }
}
