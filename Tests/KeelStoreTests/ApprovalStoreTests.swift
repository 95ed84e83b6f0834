import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Approval gates against the real PostgreSQL (DESIGN invariant 6): only listed approvers decide, each
/// decision is recorded once and stays as recorded, of simultaneous decisions exactly one settles the gate,
/// and outsiders learn nothing.
@Suite struct ApprovalStoreTests {
    static let gate = """
        flow: gated
        steps:
          - id: review
            approval:
              approvers: [alice, "group:reviewers"]
              summary: "Ship ${{ input.change }}"
              bind: ["${{ input.change }}"]
              timeout: 1h
          - id: after
            needs: [review]
            noop: {}
        """

    struct Fixture {
        let pool: PGPool
        let advancer: RunAdvancer
        let store: ApprovalStore
        let tokens: APITokenStore

        func token(_ name: String, _ role: APITokenRole = .approver, groups: [String] = []) async throws
            -> APITokenRecord
        {
            try await tokens.create(name: name, role: role, groups: groups, createdBy: "test").record
        }

        /// Triggers a run of `flow` by `actor` at `time` and returns its pending approval's id. The
        /// authenticated requester is `actor` unless `requester` says otherwise (`.some(nil)`: none).
        func run(
            _ flow: String, actor: String = "ana", requester: String?? = nil, at time: Timestamp = .now
        ) async throws -> RunID {
            var generator = SystemRandomNumberGenerator()
            let id = RunID.make(millisecondsSinceEpoch: time.millisecondsSinceEpoch, using: &generator)
            let run = NewRun(
                id: id, flow: flow, version: 1, input: ["change": "v2"], idempotencyKey: id.description,
                correlationID: "c-\(id)", actor: actor, requester: requester ?? actor)
            _ = try await RunStore(pool: pool).create(run, at: time, advancer: advancer) { _ in [] }
            return id
        }

        func history(_ run: RunID) async throws -> [RunFact] {
            try await RunStore(pool: pool).history(run: run).map { try $0.entry.decodedFact() }
        }
    }

    func withFixture(_ flows: [String] = [gate], _ body: (Fixture) async throws -> Void) async throws {
        try await withMigratedDatabase { pool in
            for yaml in flows {
                let flow = try FlowParser.parse(yaml: yaml, file: "flow.yaml")
                _ = try await FlowStore(pool: pool).push(
                    flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON,
                    sha256: flow.contentHash,
                    source: yaml, author: "ana")
            }
            let advancer = RunAdvancer(pool: pool)
            try await body(
                Fixture(
                    pool: pool, advancer: advancer, store: ApprovalStore(pool: pool, advancer: advancer),
                    tokens: APITokenStore(pool: pool)))
        }
    }

    @Test func aRequestedApprovalIsShownOnlyToThoseWhoMaySeeIt() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("gated")
            let alice = try await fixture.token("alice")
            let reviewer = try await fixture.token("rui", groups: ["reviewers"])
            let outsider = try await fixture.token("olga", groups: ["finance"])
            let operatorToken = try await fixture.token("oscar", .operator)

            let approval = try #require(try await fixture.store.find("\(run):review:1:approval", for: alice))
            #expect(approval.status == .pending)
            #expect(approval.summary == "Ship v2")
            #expect(approval.bound == ["v2"])
            #expect(approval.digests == [ContentDigest.sha256Hex(of: Array("\"v2\"".utf8))])
            #expect(approval.approvers == ["alice", "group:reviewers"])
            #expect(approval.requester == "ana")
            #expect(approval.requiredApprovals == 1)

            #expect(try await fixture.store.list(for: reviewer, status: .pending).map(\.id) == [approval.id])
            #expect(try await fixture.store.list(for: operatorToken, status: nil).map(\.id) == [approval.id])
            #expect(try await fixture.store.list(for: outsider, status: .pending).isEmpty)
            #expect(try await fixture.store.find(approval.id, for: outsider) == nil)
            await #expect(throws: ApprovalError.notFound) {
                try await fixture.store.decide(
                    approval.id, by: outsider, decision: .approve, note: nil, digests: nil)
            }
            // An operator may look but not decide.
            await #expect(throws: ApprovalError.notAnApprover) {
                try await fixture.store.decide(
                    approval.id, by: operatorToken, decision: .approve, note: nil, digests: nil)
            }
            #expect(try await fixture.store.find(approval.id, for: alice)?.decisions.isEmpty == true)
        }
    }

    @Test func ofSimultaneousApprovalsExactlyOneSettlesTheGate() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("gated")
            let id = "\(run):review:1:approval"
            var approvers: [APITokenRecord] = []
            for index in 0..<8 {
                approvers.append(try await fixture.token("r\(index)", groups: ["reviewers"]))
            }
            let results = await withTaskGroup(of: Result<ApprovalRecord, any Error>.self) { group in
                for approver in approvers {
                    group.addTask {
                        do {
                            return .success(
                                try await fixture.store.decide(
                                    id, by: approver, decision: .approve, note: "lgtm", digests: nil))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let settled = results.compactMap { try? $0.get() }
            #expect(settled.count == 1)
            #expect(settled.first?.status == .approved)
            for case .failure(let error) in results {
                #expect(error as? ApprovalError == .closed(.approved))
            }
            let stored = try #require(try await fixture.store.find(id, for: approvers[0]))
            #expect(stored.decisions.count == 1)
            let decided = try await fixture.history(run).filter { $0.event.kind == "approval.decided" }
            #expect(decided.count == 1)
        }
    }

    @Test func theGateWaitsForItsRequiredApprovalsFromDistinctApprovers() async throws {
        let twoNeeded = Self.gate.replacingOccurrences(
            of: "flow: gated", with: "flow: twice"
        ).replacingOccurrences(of: "timeout: 1h", with: "timeout: 1h\n      required_approvals: 2")
        try await withFixture([twoNeeded]) { fixture in
            let run = try await fixture.run("twice")
            let id = "\(run):review:1:approval"
            let alice = try await fixture.token("alice")
            let rui = try await fixture.token("rui", groups: ["reviewers"])

            let first = try await fixture.store.decide(
                id, by: alice, decision: .approve, note: nil, digests: nil)
            #expect(first.status == .pending)
            #expect(first.approvalCount == 1)
            await #expect(throws: ApprovalError.alreadyDecided) {
                try await fixture.store.decide(id, by: alice, decision: .approve, note: nil, digests: nil)
            }
            #expect(try await fixture.history(run).contains { $0.event.kind == "approval.decided" } == false)

            let second = try await fixture.store.decide(
                id, by: rui, decision: .approve, note: "ok", digests: first.digests)
            #expect(second.status == .approved)
            #expect(second.decisions.map(\.approver) == ["alice", "rui"])
            let decided = try await fixture.history(run).filter { $0.event.kind == "approval.decided" }
            #expect(decided.map(\.event.actor) == ["rui"])
        }
    }

    @Test func theRequesterStaleDigestsAndMissingRulesAreRefused() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("gated", actor: "alice")
            let id = "\(run):review:1:approval"
            let alice = try await fixture.token("alice")
            let rui = try await fixture.token("rui", groups: ["reviewers"])
            await #expect(throws: ApprovalError.ownRun) {
                try await fixture.store.decide(id, by: alice, decision: .approve, note: nil, digests: nil)
            }
            await #expect(throws: ApprovalError.boundChanged) {
                try await fixture.store.decide(
                    id, by: rui, decision: .approve, note: nil, digests: [String(repeating: "0", count: 64)])
            }
            await #expect(throws: ApprovalError.requestChangesNotAllowed) {
                try await fixture.store.decide(
                    id, by: rui, decision: .requestChanges, note: "no", digests: nil)
            }
            await #expect(throws: ApprovalError.noteRequired) {
                try await fixture.store.decide(id, by: rui, decision: .reject, note: "  ", digests: nil)
            }
            #expect(try await fixture.store.find(id, for: rui)?.decisions.isEmpty == true)
            // The requester may still reject their own run.
            let rejected = try await fixture.store.decide(
                id, by: alice, decision: .reject, note: "withdrawn", digests: nil)
            #expect(rejected.status == .rejected)
            let finished = try await fixture.history(run).last?.event
            #expect(finished == .runFinished(outcome: .failed, reason: finished.flatMap(\.finishReason)))
        }
    }

    @Test func theAuthenticatedRequesterNotTheClaimedActorIsKeptFromApproving() async throws {
        try await withFixture { fixture in
            // alice published it, claiming in the body to be rui: she is the requester, rui is not.
            let claimed = try await fixture.run("gated", actor: "rui", requester: "alice")
            let alice = try await fixture.token("alice")
            let rui = try await fixture.token("rui", groups: ["reviewers"])
            await #expect(throws: ApprovalError.ownRun) {
                try await fixture.store.decide(
                    "\(claimed):review:1:approval", by: alice, decision: .approve, note: nil, digests: nil)
            }
            let approved = try await fixture.store.decide(
                "\(claimed):review:1:approval", by: rui, decision: .approve, note: nil, digests: nil)
            #expect(approved.status == .approved)

            // Nobody authenticated the publisher: the gate, which forbids self-approval, approves nothing.
            let anonymous = try await fixture.run("gated", actor: "ana", requester: .some(nil))
            let id = "\(anonymous):review:1:approval"
            #expect(try await fixture.store.find(id, for: rui)?.requester == nil)
            await #expect(throws: ApprovalError.requesterUnauthenticated) {
                try await fixture.store.decide(id, by: rui, decision: .approve, note: nil, digests: nil)
            }
            let rejected = try await fixture.store.decide(
                id, by: rui, decision: .reject, note: "who?", digests: nil)
            #expect(rejected.status == .rejected)
        }
    }

    @Test func recordedDecisionsCannotBeChangedOrDeleted() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("gated")
            let rui = try await fixture.token("rui", groups: ["reviewers"])
            _ = try await fixture.store.decide(
                "\(run):review:1:approval", by: rui, decision: .approve, note: "lgtm", digests: nil)
            for statement: PGQuery in [
                "UPDATE approval_decisions SET note = 'forged'",
                "DELETE FROM approval_decisions",
                "TRUNCATE approval_decisions",
            ] {
                let error = await #expect(throws: PGError.self) {
                    try await fixture.pool.withConnection { try await $0.execute(statement) }
                }
                #expect(error?.sqlState == "23000", "\(statement)")
            }
            let kept = try await fixture.store.find("\(run):review:1:approval", for: rui)?.decisions
            #expect(kept?.map(\.note) == ["lgtm"])
        }
    }

    @Test func aTimeoutOrACancellationClosesThePendingApproval() async throws {
        try await withFixture { fixture in
            let rui = try await fixture.token("rui", groups: ["reviewers"])
            // Requested two hours ago: its one-hour timeout is due.
            let old = try await fixture.run(
                "gated",
                at: Timestamp(millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch - 7_200_000))
            #expect(try await TimerStore(advancer: fixture.advancer).fireDue(limit: 10) >= 1)
            let timedOut = try #require(try await fixture.store.find("\(old):review:1:approval", for: rui))
            #expect(timedOut.status == .timedOut)
            await #expect(throws: ApprovalError.closed(.timedOut)) {
                try await fixture.store.decide(
                    timedOut.id, by: rui, decision: .approve, note: nil, digests: nil)
            }

            let current = try await fixture.run("gated")
            try await fixture.advancer.advance(run: current) { _ in
                RunFact(at: .now, event: .runCancelRequested(actor: "oscar", reason: "not needed"))
            }
            let cancelled = try #require(
                try await fixture.store.find("\(current):review:1:approval", for: rui))
            #expect(cancelled.status == .cancelled)
        }
    }
}

extension RunFact.Event {
    fileprivate var finishReason: String? {
        if case .runFinished(_, let reason) = self { return reason }
        return nil
    }
}
