import Testing

@testable import KeelCore

@Suite("Engine: sub-flows")
struct EngineSubflowTests {
    private let deploy = """
        flow: deploy
        steps:
          - {id: build, noop: {}}
          - id: migrate
            needs: [build]
            timeout: 1h
            retry: {max_attempts: 2, initial: 1m, on: [permanent]}
            flow: {name: db-migrate, input: {table: "${{ input.table }}", dry_run: false, tags: ["${{ run.flow }}"]}}
          - id: announce
            needs: [migrate]
            run: {command: [echo, "${{ steps.migrate.outputs.steps.apply.rows }}"]}
        """

    private func started(_ run: EngineHarness) -> [SubflowRequest] {
        run.commands.compactMap { if case .startSubflow(let request) = $0 { request } else { nil } }
    }

    @Test func aFlowStepAsksForItsChildWithTheRenderedInputAndWaitsForItsOutcome() throws {
        var run = try EngineHarness(deploy)
        run.trigger(input: ["table": "users"])
        run.complete("build")
        let waitID = AttemptID(run: run.runID, step: "migrate", attempt: 1).waitID
        #expect(
            started(run) == [
                SubflowRequest(
                    step: "migrate", attempt: 1, waitID: waitID, flow: "db-migrate",
                    input: ["table": "users", "dry_run": false, "tags": ["deploy"]])
            ])
        #expect(run.derivedKinds.contains("subflow.started"))
        #expect(run.step("migrate").status == .waiting)
        #expect(run.timer(.stepTimeout(step: "migrate")) != nil, "the step's timeout bounds the child")
        let output: JSONValue = [
            "run_id": "child-1", "outcome": "succeeded", "steps": ["apply": ["rows": 12]],
        ]
        run.feed(.callbackReceived(step: "migrate", waitID: waitID, status: .succeeded, output: output))
        #expect(run.step("migrate").status == .succeeded)
        #expect(run.dispatched == ["announce"])
        run.complete("announce")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func aFailedChildFailsTheStepWithItsReasonAndTheStepsRetryAsksForANewChild() throws {
        var run = try EngineHarness(deploy)
        run.trigger(input: ["table": "users"])
        run.complete("build")
        let first = AttemptID(run: run.runID, step: "migrate", attempt: 1).waitID
        run.feed(
            .callbackReceived(
                step: "migrate", waitID: first, status: .failed,
                output: ["error": "the child run c1 of db-migrate failed"]))
        #expect(run.step("migrate").status == .retrying)
        run.fire(.retry(step: "migrate", attempt: 2))
        #expect(started(run).map(\.waitID) == [AttemptID(run: run.runID, step: "migrate", attempt: 2).waitID])
        // The first child's late answer no longer counts.
        #expect(
            run.feed(.callbackReceived(step: "migrate", waitID: first, status: .succeeded, output: [:]))
                .ignored)
        run.feed(
            .callbackReceived(
                step: "migrate", waitID: AttemptID(run: run.runID, step: "migrate", attempt: 2).waitID,
                status: .failed,
                output: ["error": "the child run c2 of db-migrate was cancelled"]))
        #expect(run.step("migrate").status == .failed)
        #expect(run.step("migrate").message == "the child run c2 of db-migrate was cancelled")
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func cancellingTheParentOrTheStepsTimeoutStopsTheChild() throws {
        for cancel in [true, false] {
            var run = try EngineHarness(deploy)
            run.trigger(input: ["table": "users"])
            run.complete("build")
            if cancel {
                run.feed(.runCancelRequested(actor: "carol", reason: "wrong table"))
            } else {
                run.fire(.stepTimeout(step: "migrate"))
            }
            let stops = run.commands.compactMap {
                if case .stopAttempt(let step, let attempt, _, _) = $0 { "\(step) \(attempt)" } else { nil }
            }
            #expect(stops == ["migrate 1"])
            #expect(run.state.outcome == (cancel ? .cancelled : .failed))
            run.checkHistory()
        }
    }

    @Test func anInputTooLargeForATriggerFailsTheStepWithoutAChild() throws {
        var run = try EngineHarness(
            """
            flow: p
            steps:
              - {id: child, flow: {name: c, input: {blob: "${{ input.blob }}"}}}
            """)
        run.trigger(input: ["blob": .string(String(repeating: "x", count: SubflowAction.maximumInputBytes))])
        #expect(started(run).isEmpty, "a trigger intake would refuse unread, leaving the parent waiting")
        #expect(run.step("child").status == .failed)
        #expect(
            run.step("child").message?.contains("at most \(SubflowAction.maximumInputBytes) fit a trigger")
                == true)
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func childKeysAreRecognised() {
        #expect(SubflowAction.isChildKey("0193a1b2-0000-7000-8000-000000000001:migrate:1:wait"))
        #expect(!SubflowAction.isChildKey("deploy-42"))
        #expect(!SubflowAction.isChildKey("a:b:wait"))
    }

    @Test func anInputThatCannotBeRenderedFailsTheStepWithoutAChild() throws {
        var run = try EngineHarness(
            """
            flow: p
            steps:
              - {id: child, flow: {name: c, input: {n: "${{ fromJSON('not json') }}"}}}
            """)
        run.trigger()
        #expect(started(run).isEmpty)
        #expect(run.step("child").status == .failed)
        #expect(run.step("child").message?.hasPrefix("steps.child.flow.input.n: ") == true)
        run.checkHistory()
    }
}

@Suite("Flow: sub-flow steps")
struct FlowSubflowTests {
    private func messages(_ steps: String) -> [String] {
        FlowTest.errors(FlowTest.flow(steps: steps)).map { "\($0.path): \($0.message)" }
    }

    @Test func aFlowStepParsesAndKeepsItsInputInTheCanonicalForm() throws {
        let flow = try FlowTest.parse(
            FlowTest.flow(
                steps: "  - {id: a, flow: {name: db-migrate, input: {t: '${{ input.t }}', n: 1}}}\n"))
        guard case .subflow(let action) = flow.step("a")?.kind else {
            Issue.record("a is not a flow step")
            return
        }
        #expect(action == SubflowAction(flow: "db-migrate", input: ["t": "${{ input.t }}", "n": 1]))
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
    }

    @Test func secretsInAChildsInputAndUnknownOutputsAreRefused() {
        #expect(
            messages("  - {id: a, flow: {name: c, input: {token: '${{ secrets.TOKEN }}'}}}\n").contains(
                "steps[0].flow.input.token: expected no secrets in a child run's input (it is recorded); got secrets.TOKEN"
            ))
        #expect(
            messages("  - {id: a, flow: {name: 'Bad Name'}}\n").contains {
                $0.hasPrefix("steps[0].flow.name: expected a flow name")
            })
        #expect(
            messages(
                """
                  - {id: a, flow: {name: c}}
                  - {id: b, needs: [a], run: {command: [echo, '${{ steps.a.outputs.rows }}']}}

                """
            ).contains {
                $0.hasPrefix(
                    "steps[1].run.command[1]: expression reads output 'rows' of step 'a', a flow step")
            })
        #expect(
            messages("  - {id: a, map: {over: '${{ input.x }}'}, flow: {name: c}}\n").contains(
                "steps[0].map: expected map on a run, http, ssh, agent or noop step without wait; got a flow step"
            ))
    }
}
