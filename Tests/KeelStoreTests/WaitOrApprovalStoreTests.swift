import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// A wait with an approval beside it, against the real PostgreSQL: whichever of the callback and the
/// decision comes first ends the step, and the other is closed in the same transaction — a later
/// callback gets the wait's stored answer (`decided`), a later decision is refused as closed.
@Suite struct WaitOrApprovalStoreTests {
    static let flow = """
        flow: agentic
        steps:
          - id: agent
            wait: {timeout: 1h}
            approval: {approvers: [alice], summary: "Stop the agent and take its work as it is?"}
          - id: after
            needs: [agent]
            noop: {}
        """

    struct Fixture {
        let pool: PGPool
        let advancer: RunAdvancer
        let approvals: ApprovalStore
        let callbacks: CallbackStore
        let tokens: APITokenStore

        /// Triggers a run, whose wait and approval open at once, and returns its id.
        func run() async throws -> RunID {
            var generator = SystemRandomNumberGenerator()
            let id = RunID.make(
                millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch, using: &generator)
            let run = NewRun(
                id: id, flow: "agentic", version: 1, input: [:], idempotencyKey: id.description,
                correlationID: "c-\(id)",
                actor: "ana", requester: "ana")
            _ = try await RunStore(pool: pool).create(run, at: .now, advancer: advancer) { _ in [] }
            return id
        }

        func claims(_ run: RunID) -> CallbackClaims {
            CallbackClaims(
                run: run, step: "agent", attempt: 1, wait: "\(run):agent:1:wait",
                expires: Int64(Date().timeIntervalSince1970) + 3600)
        }

        func history(_ run: RunID) async throws -> [RunFact] {
            try await RunStore(pool: pool).history(run: run).map { try $0.entry.decodedFact() }
        }
    }

    func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await withMigratedDatabase { pool in
            let flow = try FlowParser.parse(yaml: Self.flow, file: "flow.yaml")
            _ = try await FlowStore(pool: pool).push(
                flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
                source: Self.flow, author: "ana")
            let advancer = RunAdvancer(pool: pool)
            try await body(
                Fixture(
                    pool: pool, advancer: advancer, approvals: ApprovalStore(pool: pool, advancer: advancer),
                    callbacks: CallbackStore(pool: pool, advancer: advancer),
                    tokens: APITokenStore(pool: pool)))
        }
    }

    @Test func aCallbackAfterTheDecisionGetsTheStoredAnswer() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run()
            let claims = fixture.claims(run)
            #expect(try await fixture.callbacks.wait(claims.wait)?.isOpen == true)
            let alice = try await fixture.tokens.create(
                name: "alice", role: .approver, groups: [], createdBy: "test"
            ).record
            let decided = try await fixture.approvals.decide(
                "\(run):agent:1:approval", by: alice, decision: .approve, note: nil, digests: nil)
            #expect(decided.status == .approved)

            let wait = try #require(try await fixture.callbacks.wait(claims.wait))
            let answer = try #require(wait.answer)
            #expect(answer.status == .decided)
            let outcome = try await fixture.callbacks.receive(
                claims: claims, status: .succeeded, output: ["done": true])
            #expect(outcome == .refused(.waitClosed(answer)))

            let history = try await fixture.history(run)
            #expect(!history.contains { $0.event.kind == "callback.received" })
            let decision = try #require(history.first { $0.event.kind == "approval.decided" })
            #expect(decision.event.actor == "alice")
            let state = RunState.replay(history, flow: try FlowParser.parse(yaml: Self.flow, file: "f.yaml"))
            #expect(state.steps["agent"]?.status == .succeeded)
            #expect(state.steps["agent"]?.outputs == ["decided_by": "alice", "decision": "approve"])
            #expect(history.contains { $0.event.kind == "step.scheduled" && $0.event.step == "after" })
        }
    }

    @Test func aDecisionAfterTheCallbackIsRefusedAsClosed() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run()
            let claims = fixture.claims(run)
            let outcome = try await fixture.callbacks.receive(
                claims: claims, status: .succeeded, output: ["done": true])
            guard case .applied(let answer) = outcome else {
                Issue.record("expected the callback to be applied, got \(outcome)")
                return
            }
            #expect(answer.status == .succeeded)

            let alice = try await fixture.tokens.create(
                name: "alice", role: .approver, groups: [], createdBy: "test"
            ).record
            let approvalID = "\(run):agent:1:approval"
            let approval = try #require(try await fixture.approvals.find(approvalID, for: alice))
            #expect(approval.status == .void)
            #expect(approval.closedReason?.contains("callback") == true)
            await #expect(throws: ApprovalError.closed(.void)) {
                try await fixture.approvals.decide(
                    approvalID, by: alice, decision: .approve, note: nil, digests: nil)
            }
            let history = try await fixture.history(run)
            #expect(!history.contains { $0.event.kind == "approval.decided" })
            #expect(history.contains { $0.event.kind == "step.scheduled" && $0.event.step == "after" })
        }
    }

    @Test func theWaitsTimeoutClosesTheApprovalAsTimedOut() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run()
            let claims = fixture.claims(run)
            _ = try await fixture.advancer.advance(run: run) { state in
                let timer = state.timers.values.first {
                    $0.purpose == .waitTimeout(step: "agent", attempt: 1)
                }
                return timer.map { RunFact(at: $0.due, event: .timerFired(timerID: $0.id)) }
            }
            let answer = try #require(try await fixture.callbacks.wait(claims.wait)?.answer)
            #expect(answer.status == .timedOut)
            let alice = try await fixture.tokens.create(
                name: "alice", role: .approver, groups: [], createdBy: "test"
            ).record
            let approval = try #require(
                try await fixture.approvals.find("\(run):agent:1:approval", for: alice))
            #expect(approval.status == .timedOut)
            #expect(approval.closedReason == "the wait's timeout passed first")
        }
    }

    @Test func cancellingTheRunClosesBoth() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run()
            let claims = fixture.claims(run)
            _ = try await fixture.advancer.advance(run: run) { _ in
                RunFact(at: .now, event: .runCancelRequested(actor: "op", reason: "enough"))
            }
            let answer = try #require(try await fixture.callbacks.wait(claims.wait)?.answer)
            #expect(answer.status == .cancelled)
            let alice = try await fixture.tokens.create(
                name: "alice", role: .approver, groups: [], createdBy: "test"
            ).record
            let approval = try #require(
                try await fixture.approvals.find("\(run):agent:1:approval", for: alice))
            #expect(approval.status == .cancelled)
        }
    }
}
