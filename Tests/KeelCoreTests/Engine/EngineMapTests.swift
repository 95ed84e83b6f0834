import Testing

@testable import KeelCore

@Suite("Engine: map over a list computed at run time")
struct EngineMapTests {
    private let bulkFix = """
        flow: bulk
        steps:
          - {id: plan, noop: {}}
          - id: apply
            needs: [plan]
            map: {over: "${{ steps.plan.outputs.shards }}", max_concurrency: 2}
            retry: {max_attempts: 2, initial: 1m, on: [transient]}
            concurrency: {key: "${{ map.item.table }}", limit: 1}
            run: {command: [fix, "${{ map.item.table }}", "${{ map.index }}"]}
          - {id: verify, needs: [apply], noop: {}}
        """

    private func shards(_ tables: [String]) -> JSONObject {
        ["shards": .array(tables.map { ["table": .string($0)] })]
    }

    @Test func eachElementRunsWithItsItemAtMostMaxConcurrencyAtOnceAndTheResultsKeepListOrder() throws {
        var run = try EngineHarness(bulkFix)
        run.trigger()
        run.complete("plan", outputs: shards(["users", "orders", "items"]))
        #expect(run.derivedKinds.contains("map.expanded"))
        #expect(run.state.elements(of: "apply") == ["apply[0]", "apply[1]", "apply[2]"])
        #expect(run.dispatched == ["apply[0]", "apply[1]"], "max_concurrency 2")
        #expect(run.step("apply").status == .running)
        // Each element is its own attempt with its own key, and its concurrency key reads its item.
        let scheduled = run.commands.compactMap { if case .dispatch(let a) = $0 { a } else { nil } }
        #expect(scheduled.map(\.idempotencyKey) == ["\(run.runID):apply[0]:1", "\(run.runID):apply[1]:1"])
        #expect(scheduled.map { $0.concurrency.map(\.key) } == [["users"], ["orders"]])
        let context = run.state.expressionContext(attempt: 1, step: "apply[1]")
        #expect(context.map == MapContext(item: ["table": "orders"], index: 1))
        #expect(run.state.expressionContext(attempt: 1, step: "apply").map == nil)

        // The second finishes first; the third starts in its place; results stay in list order.
        run.complete("apply[1]", outputs: ["rows": 20])
        #expect(run.dispatched == ["apply[2]"])
        run.complete("apply[2]", outputs: ["rows": 30])
        #expect(run.dispatched.isEmpty)
        #expect(run.step("apply").status == .running)
        run.complete("apply[0]", outputs: ["rows": 10])
        #expect(run.step("apply").status == .succeeded)
        #expect(
            run.step("apply").outputs
                == ["results": [["rows": 10], ["rows": 20], ["rows": 30]], "count": 3])
        #expect(run.dispatched == ["verify"])
        #expect(run.published.contains("step.succeeded.bulk.apply"))
        run.complete("verify")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func aFailedElementIsRetriedByTheStepsPolicyAndThenFailsTheMapAndTheRun() throws {
        var run = try EngineHarness(bulkFix)
        run.trigger()
        run.complete("plan", outputs: shards(["a", "b", "c", "d"]))
        run.start("apply[0]")
        run.fail("apply[0]", .transient)
        #expect(run.step("apply[0]").status == .retrying, "the step's retry policy applies to the element")
        run.fire(.retry(step: "apply[0]", attempt: 2))
        #expect(run.dispatched == ["apply[0]"])
        #expect(run.commands.contains { if case .dispatch(let a) = $0 { a.attempt == 2 } else { false } })
        run.start("apply[0]")
        run.fail("apply[0]", .transient, message: "deadlock detected")
        #expect(run.step("apply[0]").status == .failed)
        // Elements not yet started are skipped; the one running finishes before the map fails.
        #expect(run.step("apply[2]").status == .skipped)
        #expect(run.step("apply[3]").status == .skipped)
        #expect(run.step("apply").status == .running)
        run.complete("apply[1]")
        #expect(run.step("apply").status == .failed)
        #expect(run.step("apply").message == "element 0 failed: deadlock detected")
        #expect(run.step("verify").status == .skipped)
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }

    @Test func aListThatIsNoListOrTooLongFailsTheStepAndAnEmptyOneSucceedsAtOnce() throws {
        for (outputs, message) in [
            (["shards": "users"] as JSONObject, "map.over: expected a list; got string"),
            (
                ["shards": .array(Array(repeating: 1, count: StepMap.maximumElements + 1))],
                "map.over: 1001 elements; at most 1000 are allowed"
            ),
        ] {
            var run = try EngineHarness(bulkFix)
            run.trigger()
            run.complete("plan", outputs: outputs)
            #expect(run.step("apply").status == .failed)
            #expect(run.step("apply").message == message)
            #expect(run.state.outcome == .failed)
            run.checkHistory()
        }
        var run = try EngineHarness(bulkFix)
        run.trigger()
        run.complete("plan", outputs: shards([]))
        #expect(run.step("apply").outputs == ["results": [], "count": 0])
        #expect(run.dispatched == ["verify"])
        run.checkHistory()
    }

    @Test func cancellingStopsTheRunningElementsAndCancelsTheRest() throws {
        var run = try EngineHarness(bulkFix)
        run.trigger()
        run.complete("plan", outputs: shards(["a", "b", "c"]))
        run.start("apply[0]")
        run.feed(.runCancelRequested(actor: "carol", reason: "wrong plan"))
        let stops = run.commands.compactMap {
            if case .stopAttempt(let step, _, _, _) = $0 { step } else { nil }
        }
        #expect(stops == ["apply[0]", "apply[1]"])
        for id in ["apply", "apply[0]", "apply[1]", "apply[2]", "verify"] {
            #expect(run.step(id).status == .cancelled, "\(id)")
        }
        #expect(run.feed(.stepSucceeded(step: "apply[0]", attempt: 1, outputs: [:])).ignored)
        run.checkHistory()
    }

    @Test func aRetryFromTheMappedStepMapsTheNewListWithFreshKeys() throws {
        var run = try EngineHarness(bulkFix)
        run.trigger()
        run.complete("plan", outputs: shards(["a", "b"]))
        run.complete("apply[0]")
        run.start("apply[1]")
        run.fail("apply[1]")
        #expect(run.state.outcome == .failed)
        // Not from one element: a run is retried from a flow step.
        #expect(run.feed(.runRetryRequested(fromStep: "apply[1]", pass: 1, actor: "dave")).ignored)
        run.feed(.runRetryRequested(fromStep: "plan", pass: 1, actor: "dave"))
        run.complete("plan", outputs: shards(["a", "b", "c"]))
        let keys = run.commands.compactMap { if case .dispatch(let a) = $0 { a.idempotencyKey } else { nil } }
        #expect(keys == ["\(run.runID):apply[0]:2", "\(run.runID):apply[1]:2"], "attempts never repeat")
        run.complete("apply[0]")
        run.complete("apply[1]")
        run.complete("apply[2]")
        #expect(run.step("apply").outputs["count"] == 3)
        #expect(run.step("apply").attempt == 2)
        run.complete("verify")
        #expect(run.state.outcome == .succeeded)
        run.checkHistory()
    }

    @Test func anApproversNoteSendingTheRunBackToAMappedStepReachesEveryElement() throws {
        var run = try EngineHarness(
            """
            flow: reviewed
            steps:
              - id: apply
                map: {over: "${{ input.items }}", max_concurrency: 2}
                run: {command: [./apply.sh, "${{ map.item }}"]}
              - id: review
                needs: [apply]
                approval: {approvers: [bob], request_changes: {step: apply, max_rounds: 1}}
            """)
        run.trigger(input: ["items": ["a", "b"]], requester: "alice")
        run.complete("apply[0]")
        run.complete("apply[1]")
        let approvalID = try #require(run.step("review").approvalID)
        run.feed(
            .approvalDecided(
                step: "review", approvalID: approvalID, decision: .requestChanges, actor: "bob",
                note: "smaller batches"))
        let notes = run.commands.compactMap {
            if case .dispatch(let a) = $0 { a.changeRequest?.note } else { nil }
        }
        #expect(notes == ["smaller batches", "smaller batches"], "both elements carry the note")
        #expect(run.state.changeRequest(for: "apply[1]")?.note == "smaller batches")
        run.checkHistory()
    }

    @Test func anElementsStepTimeoutFailsThatElement() throws {
        var run = try EngineHarness(
            """
            flow: t
            steps:
              - id: each
                map: {over: "${{ input.items }}"}
                timeout: 10m
                noop: {}
            """)
        run.trigger(input: ["items": [1, 2]])
        #expect(run.dispatched == ["each[0]", "each[1]"])
        run.complete("each[1]")
        run.fire(.stepTimeout(step: "each[0]"))
        #expect(run.step("each[0]").status == .timedOut)
        #expect(run.step("each").status == .failed)
        #expect(run.step("each").errorClass == .timeout)
        #expect(run.state.outcome == .failed)
        run.checkHistory()
    }
}

@Suite("Flow: map")
struct FlowMapTests {
    private func messages(_ steps: String) -> [String] {
        FlowTest.errors(FlowTest.flow(steps: steps)).map { "\($0.path): \($0.message)" }
    }

    @Test func aMappedStepParsesAndItsCanonicalFormKeepsTheMap() throws {
        let flow = try FlowTest.parse(
            FlowTest.flow(
                steps: """
                      - {id: plan, noop: {}}
                      - {id: apply, needs: [plan], map: {over: "${{ steps.plan.outputs.list }}"}, noop: {}}
                      - {id: report, needs: [apply], run: {command: [echo, "${{ steps.apply.outputs.count }}"]}}
                    """))
        let map = try #require(flow.step("apply")?.map)
        #expect(map == StepMap(over: "${{ steps.plan.outputs.list }}", maxConcurrency: 10))
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
        #expect(flow.definition(ofStepOrElement: "apply[7]")?.id == "apply")
        #expect(flow.definition(ofStepOrElement: "plan[0]") == nil, "plan has no map")
    }

    @Test func mapIsRefusedWhereItCannotHoldAndMapItemWhereThereIsNone() {
        #expect(
            messages("  - {id: a, map: {over: '${{ input.x }}'}, approval: {approvers: [ana]}}\n").contains(
                "steps[0].map: expected map on a run, http, ssh, agent or noop step without wait; got a approval step"
            ))
        #expect(
            messages("  - {id: a, map: {over: '${{ input.x }}', max_concurrency: 0}, noop: {}}\n").contains(
                "steps[0].map.max_concurrency: expected an integer 1 to 1000; got 0"))
        #expect(
            messages("  - {id: a, run: {command: [echo, '${{ map.item }}']}}\n").contains(
                "steps[0].run.command[1]: expression reads map.item, which only a step with map has"))
        #expect(
            messages("  - {id: a, if: '${{ map.index }}', map: {over: '${{ input.x }}'}, noop: {}}\n")
                .contains(
                    "steps[0].if: expected no map.index here: it is evaluated once for the whole step, before its elements"
                ))
        #expect(
            messages(
                """
                  - {id: a, map: {over: '${{ input.x }}'}, noop: {}}
                  - {id: b, needs: [a], run: {command: [echo, '${{ steps.a.outputs.rows }}']}}

                """
            ).contains(
                "steps[1].run.command[1]: expression reads output 'rows' of step 'a', which has map: its outputs are results (each element's outputs, in order) and count"
            ))
        #expect(messages("  - {id: a, map: {over: '${{ map.item }}'}, noop: {}}\n").count == 1)
    }
}
