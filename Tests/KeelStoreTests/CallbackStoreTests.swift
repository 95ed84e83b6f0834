import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Callbacks against the real PostgreSQL: each wait is answered exactly once, however many
/// callbacks race or repeat; an early one is kept and applied when its wait opens; late ones get the
/// stored answer; a token never names another run's wait; and the token itself is never stored.
@Suite struct CallbackStoreTests {
    /// The wait opens when the run starts.
    static let waiting = """
        flow: bench
        steps:
          - id: job
            wait:
              timeout: 1h
              heartbeat: 5m
              schema: {type: object, required: [p50_ms], properties: {p50_ms: {type: number}}}
          - id: report
            needs: [job]
            noop: {}
        """
    /// A wait whose job must heartbeat every 2 seconds.
    static let pulse = """
        flow: pulse
        steps:
          - id: job
            wait: {timeout: 1h, heartbeat: 2s}
        """
    /// The wait opens only once `build` succeeded.
    static let later = """
        flow: later
        steps:
          - id: build
            noop: {}
          - id: job
            needs: [build]
            wait: {timeout: 1h}
        """

    struct Fixture {
        let pool: PGPool
        let advancer: RunAdvancer
        let store: CallbackStore

        /// Triggers a run of `flow` at `time` and returns its id.
        func run(_ flow: String, at time: Timestamp = .now) async throws -> RunID {
            var generator = SystemRandomNumberGenerator()
            let id = RunID.make(millisecondsSinceEpoch: time.millisecondsSinceEpoch, using: &generator)
            let run = NewRun(
                id: id, flow: flow, version: 1, input: [:], idempotencyKey: id.description,
                correlationID: "c-\(id)",
                actor: "ana")
            _ = try await RunStore(pool: pool).create(run, at: time, advancer: advancer) { _ in [] }
            return id
        }

        func claims(_ run: RunID, step: String = "job", wait: String? = nil) -> CallbackClaims {
            CallbackClaims(
                run: run, step: step, attempt: 1, wait: wait ?? "\(run):\(step):1:wait",
                expires: Int64(Date().timeIntervalSince1970) + 3600)
        }

        func history(_ run: RunID) async throws -> [RunFact] {
            try await RunStore(pool: pool).history(run: run).map { try $0.entry.decodedFact() }
        }

        func callbacksReceived(_ run: RunID) async throws -> [RunFact] {
            try await history(run).filter { $0.event.kind == "callback.received" }
        }

        func count(_ sql: String) async throws -> Int64 {
            try await pool.withConnection { connection -> Int64? in
                try await connection.query("\(unescaped: sql)").first?.decode((Int64).self)
            }
                ?? -1
        }
    }

    func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await withMigratedDatabase { pool in
            for yaml in [Self.waiting, Self.later, Self.pulse] {
                let flow = try FlowParser.parse(yaml: yaml, file: "flow.yaml")
                _ = try await FlowStore(pool: pool).push(
                    flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON,
                    sha256: flow.contentHash, source: yaml, author: "ana")
            }
            let advancer = RunAdvancer(pool: pool)
            try await body(
                Fixture(pool: pool, advancer: advancer, store: CallbackStore(pool: pool, advancer: advancer)))
        }
    }

    @Test func concurrentDuplicateCallbacksApplyOnce() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("bench")
            let claims = fixture.claims(run)
            #expect(try await fixture.store.wait(claims.wait)?.isOpen == true)
            let outcomes = try await withThrowingTaskGroup(of: CallbackOutcome.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await fixture.store.receive(
                            claims: claims, status: .succeeded, output: ["p50_ms": .number(JSONNumber(index))]
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let applied = outcomes.compactMap { if case .applied(let answer) = $0 { answer } else { nil } }
            #expect(applied.count == 1)
            let answer = try #require(applied.first)
            #expect(answer.status == .succeeded)
            #expect(answer.waitID == claims.wait)
            #expect(outcomes.filter { $0 == .alreadyAnswered(answer) }.count == 7)
            #expect(try await fixture.callbacksReceived(run).count == 1)
            let wait = try #require(try await fixture.store.wait(claims.wait))
            #expect(wait.answer == answer)
            let recorded = try await fixture.store.callbacks(of: claims.wait)
            #expect(recorded.count == 8)
            #expect(recorded.filter(\.applied).count == 1)
            #expect(recorded.filter { $0.disposition == .duplicate }.count == 7)
            // The run went on past the wait.
            #expect(
                try await fixture.history(run).contains {
                    $0.event.kind == "step.scheduled" && $0.event.step == "report"
                })
        }
    }

    @Test func anEarlyCallbackIsAppliedWhenItsWaitOpens() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("later")
            let claims = fixture.claims(run)
            #expect(try await fixture.store.wait(claims.wait) == nil)
            #expect(
                try await fixture.store.receive(claims: claims, status: .partial, output: ["done": 3])
                    == .keptEarly)
            // A repeat before the wait opens is recorded, not kept a second time.
            #expect(
                try await fixture.store.receive(claims: claims, status: .failed, output: .null) == .keptEarly)
            #expect(try await fixture.callbacksReceived(run).isEmpty)

            let dispatch = StepDispatch(
                runID: run, flow: "later", version: 1, step: "build", attempt: 1,
                idempotencyKey: "\(run):build:1",
                correlationID: "c-\(run)")
            let attempts = AttemptStore(advancer: fixture.advancer)
            let claimed = try #require(try await attempts.claim(dispatch, executor: "x"))
            #expect(try await attempts.complete(claimed, with: .succeeded(outputs: [:])) == .recorded)

            let received = try await fixture.callbacksReceived(run)
            #expect(
                received.map(\.event) == [
                    .callbackReceived(step: "job", waitID: claims.wait, status: .partial, output: ["done": 3])
                ])
            let wait = try #require(try await fixture.store.wait(claims.wait))
            #expect(wait.answer?.status == .partial)
            let recorded = try await fixture.store.callbacks(of: claims.wait)
            #expect(recorded.map(\.disposition) == [.early, .duplicate])
            #expect(recorded.map(\.applied) == [true, false])
            #expect(recorded.first?.answer == wait.answer)
            #expect(
                try await fixture.history(run).last?.event == .runFinished(outcome: .succeeded, reason: nil))
            // Once applied, the same callback again gets the stored answer.
            let answer = try #require(wait.answer)
            #expect(
                try await fixture.store.receive(claims: claims, status: .partial, output: ["done": 3])
                    == .alreadyAnswered(answer))
            #expect(try await fixture.callbacksReceived(run).count == 1)
        }
    }

    @Test func aLateCallbackGetsTheStoredAnswerAndChangesNothing() async throws {
        try await withFixture { fixture in
            // Triggered long ago: the wait's heartbeat and timeout are both due.
            let run = try await fixture.run("bench", at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000))
            let claims = fixture.claims(run)
            #expect(try await TimerStore(advancer: fixture.advancer).fireDue() >= 1)
            let wait = try #require(try await fixture.store.wait(claims.wait))
            let answer = try #require(wait.answer)
            #expect(answer.status == .timedOut)
            let before = try await fixture.history(run)

            let outcome = try await fixture.store.receive(
                claims: claims, status: .succeeded, output: ["p50_ms": 4])
            #expect(outcome == .refused(.waitClosed(answer)))
            #expect(try await fixture.history(run) == before)
            #expect(try await fixture.store.wait(claims.wait) == wait)
            let recorded = try await fixture.store.callbacks(of: claims.wait)
            #expect(recorded.map(\.disposition) == [.refused])
            #expect(recorded.first?.answer == answer)
        }
    }

    @Test func aHeartbeatExtendsTheDeadline() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("bench", at: Timestamp(Date().addingTimeInterval(-60)))
            let claims = fixture.claims(run)
            let opened = try #require(try await fixture.store.wait(claims.wait))
            let firstDue = try #require(opened.heartbeatAt)

            let outcome = try await fixture.store.receive(
                claims: claims, status: .heartbeat, output: ["progress": 0.4])
            guard case .heartbeatApplied(let due?) = outcome else {
                Issue.record("expected an applied heartbeat, got \(outcome)")
                return
            }
            #expect(due > firstDue)
            let wait = try #require(try await fixture.store.wait(claims.wait))
            #expect(wait.isOpen)
            #expect(wait.heartbeatAt.map { abs($0.timeIntervalSince(due)) < 0.001 } == true)
            // The heartbeat timer was re-armed at the new deadline; the old one is gone.
            #expect(
                try await fixture.count(
                    "SELECT count(*) FROM run_timers WHERE purpose = 'heartbeat' AND run_id = '\(run)'") == 1)
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*) FROM run_timers WHERE purpose = 'heartbeat' AND run_id = '\(run)'
                      AND abs(extract(epoch FROM due_at) - \(due.timeIntervalSince1970)) < 0.001
                    """) == 1)
            // The same token still ends the wait after its heartbeats.
            guard
                case .applied = try await fixture.store.receive(
                    claims: claims, status: .succeeded, output: ["p50_ms": 7])
            else {
                Issue.record("the wait was not answered after a heartbeat")
                return
            }
            #expect(try await fixture.callbacksReceived(run).count == 2)
        }
    }

    @Test func manyHeartbeatsAddAFewFactsAndOneRowWhileTheDeadlineMoves() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("pulse")
            let claims = fixture.claims(run)
            let rowsBefore = try await fixture.count("SELECT count(*) FROM callbacks")
            let factsBefore = try await fixture.history(run).count
            let started = ContinuousClock.now
            var deadlines: [Date] = []
            for index in 0..<200 {
                // Measured from before the call: on a busy machine the call itself can take a while.
                let sent = Date()
                let outcome = try await fixture.store.receive(
                    claims: claims, status: .heartbeat, output: ["done": .number(JSONNumber(index))])
                guard case .heartbeatApplied(let due?) = outcome else {
                    Issue.record("heartbeat \(index): expected it applied, got \(outcome)")
                    return
                }
                // Never less than half the interval (1 s) ahead of the latest heartbeat.
                #expect(due.timeIntervalSince(sent) > 0.9, "heartbeat \(index): due \(due), sent \(sent)")
                deadlines.append(due)
                try await Task.sleep(for: .milliseconds(15))
            }
            let elapsed = Double((ContinuousClock.now - started).components.seconds) + 1
            let recorded = try await fixture.callbacksReceived(run)
            // The first, then at most one per half interval (1 s).
            #expect(recorded.count >= 2, "the deadline never moved in the history")
            #expect(Double(recorded.count) <= 2 + elapsed, "\(recorded.count) facts in \(elapsed) s")
            #expect(try await fixture.history(run).count - factsBefore == recorded.count)
            #expect(try await fixture.count("SELECT count(*) FROM callbacks") - rowsBefore == 1)
            let wait = try #require(try await fixture.store.wait(claims.wait))
            #expect(wait.isOpen)
            #expect(wait.heartbeats == 200)
            #expect(wait.progress == ["done": 199])
            #expect(wait.lastHeartbeatAt.map { $0.timeIntervalSinceNow > -5 } == true)
            let first = try #require(deadlines.first)
            let last = try #require(deadlines.last)
            #expect(last.timeIntervalSince(first) > 1, "the deadline did not move: \(first) → \(last)")
            #expect(wait.heartbeatAt.map { abs($0.timeIntervalSince(last)) < 0.001 } == true)
            // One heartbeat timer, at the deadline the history gives; replaying it gives the same state.
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*) FROM run_timers WHERE purpose = 'heartbeat' AND run_id = '\(run)'
                      AND abs(extract(epoch FROM due_at) - \(last.timeIntervalSince1970)) < 0.001
                    """) == 1)
            let flow = try FlowParser.parse(yaml: Self.pulse, file: "flow.yaml")
            let definition = try FlowDefinition(canonicalJSON: try JSONValue(parsing: flow.canonicalJSON))
            let replayed = RunState.replay(try await fixture.history(run), flow: definition)
            #expect(replayed.steps["job"]?.heartbeatDue?.date == last)
            // The job still ends its wait.
            guard
                case .applied = try await fixture.store.receive(
                    claims: claims, status: .succeeded, output: [:])
            else {
                Issue.record("the wait was not answered after its heartbeats")
                return
            }
        }
    }

    @Test func aTokenForOneRunCannotAnswerAnotherRunsWait() async throws {
        try await withFixture { fixture in
            let first = try await fixture.run("bench")
            let second = try await fixture.run("bench")
            let foreign = fixture.claims(first, wait: "\(second):job:1:wait")
            #expect(
                try await fixture.store.receive(claims: foreign, status: .succeeded, output: ["p50_ms": 1])
                    == .refused(.foreignWait))
            let unknownStep = fixture.claims(first, step: "report")
            #expect(
                try await fixture.store.receive(
                    claims: unknownStep, status: .succeeded, output: ["p50_ms": 1])
                    == .refused(.foreignWait))
            #expect(try await fixture.store.wait("\(second):job:1:wait")?.isOpen == true)
            #expect(try await fixture.store.wait("\(first):job:1:wait")?.isOpen == true)
            #expect(try await fixture.callbacksReceived(first).isEmpty)
            #expect(try await fixture.callbacksReceived(second).isEmpty)
        }
    }

    @Test func anOutputThatDoesNotMatchTheSchemaIsRefusedWithItsFields() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("bench")
            let claims = fixture.claims(run)
            let outcome = try await fixture.store.receive(
                claims: claims, status: .succeeded, output: ["p50_ms": "fast"])
            guard case .refused(.invalidOutput(let errors)) = outcome else {
                Issue.record("expected invalid output, got \(outcome)")
                return
            }
            #expect(errors.map(\.instanceLocation.description) == ["/p50_ms"])
            #expect(try await fixture.store.wait(claims.wait)?.isOpen == true)
            #expect(try await fixture.callbacksReceived(run).isEmpty)
        }
    }

    @Test func theTokenIsNeverStored() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("bench")
            let keys = try CallbackKeyRing(keys: ["k1": Array(repeating: 7, count: 32)], signingKeyID: "k1")
            let token = CallbackToken.mint(fixture.claims(run), keys: keys)
            let claims = try CallbackToken.verify(token, keys: keys)
            _ = try await fixture.store.receive(claims: claims, status: .heartbeat, output: .null)
            _ = try await fixture.store.receive(claims: claims, status: .succeeded, output: ["p50_ms": 2])
            let signature = try #require(token.split(separator: ".").last.map(String.init))
            let everything = try await fixture.pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT coalesce(string_agg(row_to_json(c)::text, ' '), '') FROM callbacks c
                    UNION ALL SELECT coalesce(string_agg(row_to_json(w)::text, ' '), '') FROM waits w
                    UNION ALL SELECT coalesce(string_agg(fact::text, ' '), '') FROM run_history
                    """
                ).map { try $0.decode((String).self) }.joined(separator: " ")
            }
            #expect(!everything.isEmpty)
            for secret in [token, signature, claims.id] {
                #expect(!everything.contains(secret))
            }
            let digests = Set(try await fixture.store.callbacks(of: claims.wait).map(\.tokenDigest))
            #expect(digests == [ContentDigest.sha256Hex(of: Array(claims.id.utf8))])
        }
    }
    @Test func receivedCallbacksAreHistory() async throws {
        try await withFixture { fixture in
            let run = try await fixture.run("bench")
            _ = try await fixture.store.receive(
                claims: fixture.claims(run), status: .succeeded, output: ["p50_ms": 3])
            for change in [
                "UPDATE callbacks SET status = 'failed'", "UPDATE callbacks SET applied = false",
                "DELETE FROM callbacks", "TRUNCATE callbacks",
            ] {
                await #expect(throws: PGError.self) {
                    try await fixture.pool.withConnection { try await $0.execute("\(unescaped: change)") }
                }
            }
            #expect(try await fixture.count("SELECT count(*) FROM callbacks WHERE applied") == 1)
        }
    }
}
