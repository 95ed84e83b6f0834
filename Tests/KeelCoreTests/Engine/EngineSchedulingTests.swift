import Testing

@testable import KeelCore

@Suite("Engine: scheduling")
struct EngineSchedulingTests {
    @Test func linearFlowRunsStepByStepAndSucceeds() throws {
        var run = try EngineHarness(
            """
            flow: linear
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
              - {id: c, needs: [b], noop: {}}
            """)
        run.trigger(replyTo: "amq.reply")
        #expect(run.dispatched == ["a"])
        #expect(run.step("b").status == .pending)
        run.complete("a")
        #expect(run.dispatched == ["b"])
        #expect(run.published == ["step.succeeded.linear.a"])
        run.complete("b")
        #expect(run.dispatched == ["c"])
        run.complete("c")
        #expect(run.state.status == .finished)
        #expect(run.state.outcome == .succeeded)
        #expect(run.commands.contains(.finishRun(outcome: .succeeded, replyTo: "amq.reply")))
        #expect(run.published.contains("run.succeeded.linear"))
        #expect(run.derivedKinds == ["step.scheduled", "step.scheduled", "step.scheduled", "run.finished"])
        run.checkHistory()
    }

    @Test func dispatchCarriesStableKeysPoolShardAndConcurrency() throws {
        var run = try EngineHarness(
            """
            flow: keyed
            concurrency: {key: "${{ input.repo }}", limit: 2}
            shard_key: "repo-${{ input.repo }}"
            steps:
              - id: a
                runs_on: [linux, gpu]
                concurrency: {key: "${{ run.flow }}-a", limit: 1}
                noop: {}
            """)
        run.trigger(input: ["repo": "keel"])
        let dispatch = try #require(
            run.commands.compactMap { if case .dispatch(let attempt) = $0 { attempt } else { nil } }.first)
        #expect(dispatch.idempotencyKey == "\(run.runID):a:1")
        #expect(dispatch.runsOn == ["gpu", "linux"])
        #expect(dispatch.shardKey == "repo-keel")
        #expect(
            dispatch.concurrency == [
                ConcurrencyClaim(scope: .flow, key: "keel", limit: 2),
                ConcurrencyClaim(scope: .step, key: "keyed-a", limit: 1),
            ])
        guard case .stepScheduled(let scheduled) = run.history.last?.event else {
            Issue.record("expected step.scheduled last")
            return
        }
        #expect(scheduled == dispatch)
    }

    @Test func shardKeyDefaultsToTheRunID() throws {
        var run = try EngineHarness("flow: s\nsteps: [{id: a, noop: {}}]\n")
        run.trigger()
        guard
            case .dispatch(let attempt)? = run.commands.first(where: {
                if case .dispatch = $0 { true } else { false }
            })
        else {
            Issue.record("no dispatch")
            return
        }
        #expect(attempt.shardKey == run.runID.description)
        #expect(attempt.concurrency.isEmpty)
    }

    @Test func fanOutAndJoin() throws {
        var run = try EngineHarness(
            """
            flow: fan
            steps:
              - {id: root, noop: {}}
              - {id: left, needs: [root], noop: {}}
              - {id: middle, needs: [root], noop: {}}
              - {id: right, needs: [root], noop: {}}
              - {id: join, needs: [left, middle, right], noop: {}}
            """)
        run.trigger()
        run.complete("root")
        #expect(run.dispatched == ["left", "middle", "right"])
        run.complete("middle")
        #expect(run.dispatched.isEmpty)
        run.complete("right")
        #expect(run.dispatched.isEmpty)
        run.complete("left")
        #expect(run.dispatched == ["join"])
        run.complete("join")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func ifTrueRunsAndIfFalseSkips() throws {
        var run = try EngineHarness(
            """
            flow: cond
            steps:
              - {id: a, noop: {}, outputs: {go: inline}}
              - {id: yes, needs: [a], if: "${{ steps.a.outputs.go }}", noop: {}}
              - {id: no, needs: [a], if: "${{ !steps.a.outputs.go }}", noop: {}}
              - {id: after-no, needs: [no], noop: {}}
            """)
        run.trigger()
        run.complete("a", outputs: ["go": true])
        #expect(run.dispatched == ["yes"])
        #expect(run.step("no").status == .skipped)
        #expect(run.step("no").message == "if: condition is false")
        #expect(run.step("after-no").status == .skipped)
        #expect(run.step("after-no").message == "need 'no' skipped")
        run.complete("yes")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func ifReadsInputAndRunFields() throws {
        var run = try EngineHarness(
            """
            flow: cond
            steps:
              - {id: a, if: "${{ input.deploy && run.attempt == 1 && run.actor == 'alice' }}", noop: {}}
              - {id: b, if: "${{ input.other }}", noop: {}}
            """)
        run.trigger(input: ["deploy": true])
        #expect(run.dispatched == ["a"])
        #expect(run.step("b").status == .skipped)
    }

    @Test func failureSkipsDependentsAndFailsTheRun() throws {
        var run = try EngineHarness(
            """
            flow: skip
            steps:
              - {id: a, noop: {}}
              - {id: b, needs: [a], noop: {}}
              - {id: c, needs: [b], noop: {}}
              - {id: side, noop: {}}
            """)
        run.trigger()
        #expect(run.dispatched == ["a", "side"])
        run.start("a")
        run.fail("a")
        #expect(run.step("b").status == .skipped)
        #expect(run.step("b").message == "need 'a' failed")
        #expect(run.step("c").message == "need 'b' skipped")
        #expect(run.published == ["step.failed.skip.a"])
        #expect(run.state.status == .running)
        run.complete("side")
        #expect(run.state.outcome == .failed)
        #expect(run.published.contains("run.failed.skip"))
        run.checkHistory()
    }

    @Test func statusConditionRunsAfterAFailureAndHandlesIt() throws {
        var run = try EngineHarness(
            """
            flow: handler
            steps:
              - {id: a, noop: {}}
              - {id: cleanup, needs: [a], if: "${{ steps.a.status == 'failed' }}", noop: {}}
              - {id: next, needs: [a], noop: {}}
            """)
        run.trigger()
        run.start("a")
        run.fail("a")
        #expect(run.dispatched == ["cleanup"])
        #expect(run.step("next").status == .skipped)
        run.complete("cleanup")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func statusConditionThatIsFalseLeavesTheFailureUnhandled() throws {
        var run = try EngineHarness(
            """
            flow: handler
            steps:
              - {id: a, noop: {}}
              - {id: apply, needs: [a], if: "${{ steps.a.status == 'succeeded' }}", noop: {}}
            """)
        run.trigger()
        run.start("a")
        run.fail("a", .transient)
        #expect(run.step("apply").status == .skipped)
        #expect(run.state.outcome == .failed)
    }

    @Test func statusConditionOnSuccessSkipsWhenFalse() throws {
        var run = try EngineHarness(
            """
            flow: handler
            steps:
              - {id: a, noop: {}}
              - {id: cleanup, needs: [a], if: "${{ steps.a.status == 'failed' }}", noop: {}}
            """)
        run.trigger()
        run.complete("a")
        #expect(run.step("cleanup").status == .skipped)
        #expect(run.state.outcome == .succeeded)
    }

    @Test func expressionErrorInIfFailsTheStepPermanently() throws {
        var run = try EngineHarness(
            """
            flow: bad
            steps:
              - {id: a, if: "${{ fromJSON(input.text) }}", noop: {}}
              - {id: b, needs: [a], noop: {}}
              - {id: c, if: "${{ secrets.TOKEN == 'x' }}", noop: {}}
            """)
        run.trigger(input: ["text": "{not json"])
        #expect(run.step("a").status == .failed)
        #expect(run.step("a").errorClass == .permanent)
        #expect(run.step("a").message?.hasPrefix("if: ") == true)
        #expect(run.step("b").status == .skipped)
        #expect(run.step("c").status == .failed)
        #expect(run.state.outcome == .failed)
        #expect(run.dispatched.isEmpty)
        #expect(run.derivedKinds.contains("step.failed"))
        run.checkHistory()
    }

    @Test func badFlowLevelKeyFailsTheRunAtOnce() throws {
        var run = try EngineHarness(
            """
            flow: badkey
            shard_key: "${{ fromJSON(input.text) }}"
            steps: [{id: a, noop: {}}]
            """)
        run.trigger(input: ["text": "["])
        #expect(run.state.status == .finished)
        #expect(run.state.outcome == .failed)
        #expect(run.state.finishReason?.hasPrefix("shard_key: ") == true)
        #expect(run.dispatched.isEmpty)
    }

    @Test func stepConcurrencyKeyThatCannotBeEvaluatedFailsTheStep() throws {
        var run = try EngineHarness(
            """
            flow: k
            steps:
              - {id: a, noop: {}, concurrency: {key: "${{ fromJSON(input.text) }}", limit: 1}}
              - {id: b, noop: {}}
            """)
        run.trigger(input: ["text": "{"])
        #expect(run.step("a").status == .failed)
        #expect(run.step("a").message?.hasPrefix("steps.a.concurrency.key: ") == true)
        #expect(
            run.history.contains { $0.derived && $0.event.kind == "step.failed" && $0.event.attempt == 0 })
        #expect(run.dispatched == ["b"])
        run.checkHistory()
    }

    @Test func outputsOfNeedsAreVisibleToConditions() throws {
        var run = try EngineHarness(
            """
            flow: outs
            steps:
              - {id: a, noop: {}, outputs: {count: inline}}
              - {id: b, needs: [a], if: "${{ steps.a.outputs.count > 2 }}", noop: {}}
            """)
        run.trigger()
        run.complete("a", outputs: ["count": 3])
        #expect(run.dispatched == ["b"])
    }
}

@Suite("Engine: size")
struct EngineSizeTests {
    @Test(.timeLimit(.minutes(1)))
    func aTreeOf200StepsRuns() throws {
        var yaml = "flow: big\nsteps:\n  - {id: s0, noop: {}}\n"
        for index in 1..<200 {
            yaml += "  - {id: s\(index), needs: [s\(index / 2)], noop: {}}\n"
        }
        var run = try EngineHarness(yaml)
        run.trigger()
        var rounds = 0
        while run.state.status == .running && rounds < 1_000 {
            rounds += 1
            let ready = run.state.order.filter { run.step($0).status == .scheduled }
            for id in ready { run.complete(id) }
        }
        #expect(run.state.outcome == .succeeded)
        #expect(rounds <= 10)
        run.checkHistory()
    }
}
