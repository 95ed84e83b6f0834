import AMQPClient
import Foundation
import KeelCore
import KeelTestSupport
import PGClient
import Testing

/// A flow step starting a child run, through the real services: trigger-intake creates the child from
/// the parent's request, the child's outcome resumes the parent, cancelling the parent cancels the child,
/// and a trigger that only claims to be a child is refused.
@Suite(.serialized) struct SubflowEndToEndTests: KeelCLITesting {
    static let child = """
        flow: sf-child
        input:
          type: object
          required: [n, hold]
          properties:
            n: {type: integer}
            hold: {type: boolean}
        steps:
          - id: double
            run:
              command: [sh, -c, 'if [ "$1" = true ]; then sleep 60; fi; echo "{\\"twice\\": $(( $0 * 2 ))}" > "$KEEL_OUTPUT"', "${{ input.n }}", "${{ input.hold }}"]
        """

    static let parent = """
        flow: sf-parent
        input:
          type: object
          required: [n]
          properties:
            n: {}
            hold: {type: boolean, default: false}
        steps:
          - id: child
            flow: {name: sf-child, input: {n: "${{ input.n }}", hold: "${{ input.hold }}"}}
          - id: after
            needs: [child]
            run:
              command: [sh, -c, 'test "$0" = 42 && echo "{\\"ok\\": true}" > "$KEEL_OUTPUT"', "${{ steps.child.outputs.steps.double.twice }}"]
        """

    func childOf(_ parentID: String, stack: EngineStack) async throws -> String? {
        try await stack.pool.withConnection { connection -> String? in
            try await connection.query(
                "SELECT id::text FROM runs WHERE parent_run_id = \(UUID(uuidString: parentID))"
            ).first?.decode((String).self)
        }
    }

    @Test func theChildRunsForItsParentAndItsOutputsResumeIt() async throws {
        let stack = try await EngineStack(flows: [Self.child, Self.parent])
        try await stack.trigger("sf-parent", input: #"{"n": 21}"#, key: "p-1", actor: "ana")
        let parentID = try await stack.runID(key: "p-1", flow: "sf-parent")
        #expect(try await stack.finish(parentID, expected: "succeeded") == "succeeded")
        let childID = try #require(try await childOf(parentID, stack: stack))
        #expect(try await stack.status(childID) == "succeeded")

        // The child acts for the parent: its actor, requester, correlation id; its trigger names the parent.
        let childFacts = try await stack.history(childID)
        guard case .runTriggered(let trigger) = childFacts.first?.event else {
            Issue.record("the child's history does not start with run.triggered")
            return
        }
        let parent = try #require(RunID(parentID))
        let waitID = AttemptID(run: parent, step: "child", attempt: 1).waitID
        #expect(trigger.parent == RunParent(runID: parent, step: "child", waitID: waitID))
        #expect(trigger.idempotencyKey == waitID)
        #expect(trigger.actor == "ana")
        #expect(trigger.correlationID == "corr-p-1")
        #expect(trigger.input == ["n": 21, "hold": false])

        let parentFacts = try await stack.history(parentID)
        let outcome = parentFacts.compactMap { fact -> JSONValue? in
            if case .callbackReceived("child", waitID, .succeeded, let output) = fact.event { return output }
            return nil
        }
        #expect(outcome.first?["run_id"] == .string(childID))
        #expect(outcome.first?["steps"]?["double"]?["twice"] == 42)
        try await stack.expectHistoryReplays(parentID)
        try await stack.expectHistoryReplays(childID)

        // `keel run show` links both ways.
        let parentShown = try await keel(["run", "show", parentID, "--json"], database: stack.database)
        let children = (parentShown.json as? [String: Any])?["children"] as? [[String: Any]]
        #expect(children?.first?["runID"] as? String == childID)
        #expect(children?.first?["step"] as? String == "child")
        let childShown = try await keel(["run", "show", childID, "--json"], database: stack.database)
        let shownParent = (childShown.json as? [String: Any])?["parent"] as? [String: Any]
        #expect(shownParent?["run_id"] as? String == parentID)
        try await stack.stop()
    }

    @Test func aChildThatCannotStartFailsItsParentStepWithTheReason() async throws {
        let stack = try await EngineStack(flows: [Self.child, Self.parent])
        try await stack.trigger("sf-parent", input: #"{"n": "twenty"}"#, key: "p-bad")
        let parentID = try await stack.runID(key: "p-bad", flow: "sf-parent")
        #expect(try await stack.finish(parentID, expected: "failed") == "failed")
        #expect(try await childOf(parentID, stack: stack) == nil)
        let failed = try await stack.history(parentID).compactMap { fact -> String? in
            if case .callbackReceived("child", _, .failed, let output) = fact.event {
                return output["error"]?.stringValue
            }
            return nil
        }
        #expect(failed.count == 1)
        #expect(failed.first?.hasPrefix("the child run could not start: ") == true, "\(failed)")
        #expect(failed.first?.contains("/n") == true, "the schema error names the field: \(failed)")
        try await stack.stop()
    }

    @Test func cancellingTheParentCancelsTheRunningChild() async throws {
        let stack = try await EngineStack(flows: [Self.child, Self.parent])
        try await stack.trigger("sf-parent", input: #"{"n": 1, "hold": true}"#, key: "p-hold")
        let parentID = try await stack.runID(key: "p-hold", flow: "sf-parent")
        var childID: String?
        for _ in 0..<200 where childID == nil {
            childID = try await childOf(parentID, stack: stack)
            if childID == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let child = try #require(childID, "no child run:\n\(stack.logs)")
        // Cancel once the child's step is running (its process sleeping).
        for _ in 0..<200 where try await stack.status(child) != "running" {
            try await Task.sleep(for: .milliseconds(100))
        }
        let cancelled = try await keel(
            ["run", "cancel", parentID, "--reason", "wrong input"], database: stack.database)
        #expect(cancelled.status == 0)
        #expect(try await stack.finish(parentID, expected: "cancelled") == "cancelled")
        #expect(try await stack.finish(child, expected: "cancelled") == "cancelled")
        let reason = try await stack.history(child).compactMap { fact -> String? in
            if case .runCancelRequested(_, let reason) = fact.event { return reason }
            return nil
        }
        #expect(reason == ["the parent run's step 'child' stopped: wrong input"])
        try await stack.expectHistoryReplays(child)
        try await stack.stop()
    }

    @Test func aTriggerThatOnlyClaimsAParentIsRefusedAndStartsNothing() async throws {
        let stack = try await EngineStack(flows: [Self.child, Self.parent])
        // A real parent, waiting on its child (held), whose wait a forger could name.
        try await stack.trigger("sf-parent", input: #"{"n": 1, "hold": true}"#, key: "p-real")
        let parentID = try await stack.runID(key: "p-real", flow: "sf-parent")
        let waitID = AttemptID(run: try #require(RunID(parentID)), step: "child", attempt: 1).waitID
        var realChild: String?
        for _ in 0..<200 where realChild == nil {
            realChild = try await childOf(parentID, stack: stack)
            if realChild == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(realChild != nil, "the parent's own child was not created:\n\(stack.logs)")
        // (exchange, parent header, input, idempotency key, draft, the refusal's reason)
        let forgeries:
            [(exchange: String, wait: String?, input: String, key: String, draft: Int?, reason: String)] = [
                // Not the input the parent asked for.
                ("keel.subflows", waitID, #"{"n": 5, "hold": false}"#, waitID, nil, "invalid_properties"),
                // The parent's exact request, but under a key of the forger's, or for a draft.
                (
                    "keel.subflows", waitID, #"{"n": 1, "hold": true}"#, "forged-key", nil,
                    "invalid_properties"
                ),
                ("keel.subflows", waitID, #"{"n": 1, "hold": true}"#, waitID, 1, "invalid_properties"),
                // A wait no run has, or no wait at all.
                (
                    "keel.subflows", "\(UUID().uuidString.lowercased()):child:1:wait",
                    #"{"n": 1, "hold": true}"#,
                    "forged-3", nil, "invalid_properties"
                ),
                (
                    "keel.subflows", "not-a-wait", #"{"n": 1, "hold": true}"#, "not-a-wait", nil,
                    "invalid_properties"
                ),
                ("keel.subflows", nil, #"{"n": 1, "hold": true}"#, "forged-5", nil, "invalid_properties"),
                // The header on the public exchange; the child's key taken by an ordinary trigger.
                ("keel.triggers", waitID, #"{"n": 1, "hold": true}"#, waitID, nil, "invalid_properties"),
                ("keel.triggers", nil, #"{"n": 1, "hold": true}"#, waitID, nil, "invalid_body"),
            ]
        for (index, forgery) in forgeries.enumerated() {
            var headers: AMQPTable = [:]
            if let wait = forgery.wait { headers["keel-parent-wait"] = .string(wait) }
            let draft = forgery.draft.map { #", "draft": \#($0)"# } ?? ""
            let body =
                #"{"flow": "sf-child", "input": \#(forgery.input), "idempotency_key": "\#(forgery.key)"\#(draft)}"#
            try await stack.channel.publishRepublishingNacks(
                Array(body.utf8), exchange: forgery.exchange, routingKey: "sf-child",
                properties: AMQPProperties(
                    contentType: "application/json", headers: headers, correlationID: "forged-\(index)"))
        }
        var reasons: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while reasons.count < forgeries.count, ContinuousClock.now < deadline {
            guard let delivery = try await stack.channel.get(queue: "keel.dead.keel.triggers") else {
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            try await stack.channel.ack(delivery)
            reasons[delivery.properties.correlationID ?? "?"] =
                delivery.properties.headers["keel-reason"]?.stringValue
        }
        #expect(
            reasons
                == Dictionary(
                    uniqueKeysWithValues: forgeries.enumerated().map { ("forged-\($0)", $1.reason) }))
        let forged = try await stack.pool.withConnection { connection in
            try await connection.query(
                "SELECT count(*)::int8 FROM runs WHERE flow = 'sf-child' AND parent_run_id IS NULL"
            )
            .first?.decode((Int).self)
        }
        #expect(forged == 0)
        // The real child (one only) still belongs to the parent.
        let children = try await stack.pool.withConnection { connection in
            try await connection.query(
                "SELECT count(*)::int8 FROM runs WHERE parent_run_id = \(UUID(uuidString: parentID))"
            )
            .first?.decode((Int).self)
        }
        #expect(children == 1)
        _ = try await keel(["run", "cancel", parentID, "--reason", "done"], database: stack.database)
        try await stack.stop()
    }
}
