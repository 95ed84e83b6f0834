import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// The engine's store against the real PostgreSQL: timers fire once however many sweepers race, and a
/// result from a lost lease is refused (DESIGN invariant 5).
@Suite struct EngineStoreTests {
    func push(_ yaml: String, _ pool: PGPool) async throws {
        let flow = try FlowParser.parse(yaml: yaml, file: "flow.yaml")
        _ = try await FlowStore(pool: pool).push(
            flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
            source: yaml, author: "ana")
    }

    /// Creates a run of version 1 of `flow`, triggered at `time`.
    func createRun(_ flow: String, at time: Timestamp, advancer: RunAdvancer, pool: PGPool) async throws
        -> RunID
    {
        var generator = SystemRandomNumberGenerator()
        let id = RunID.make(millisecondsSinceEpoch: time.millisecondsSinceEpoch, using: &generator)
        let run = NewRun(
            id: id, flow: flow, version: 1, input: [:], idempotencyKey: id.description,
            correlationID: "c-\(id)",
            actor: "ana")
        _ = try await RunStore(pool: pool).create(run, at: time, advancer: advancer) { _ in [] }
        return id
    }

    @Test func racingSweepersFireEachTimerOnce() async throws {
        try await withMigratedDatabase { pool in
            try await push("flow: timed\ntimeout: 1s\nsteps:\n  - id: a\n    noop: {}\n", pool)
            let advancer = RunAdvancer(pool: pool)
            // Triggered long ago: every run's run-timeout timer is already due.
            var runs: [RunID] = []
            for index in 0..<20 {
                runs.append(
                    try await createRun(
                        "timed", at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(index)),
                        advancer: advancer, pool: pool))
            }
            let armed = try await pool.withConnection {
                try await $0.query("SELECT count(*) FROM run_timers").first?.decode((Int64).self)
            }
            #expect(armed == 20)
            let fired = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await TimerStore(advancer: advancer).fireDue(limit: 100) }
                }
                return try await group.reduce(0, +)
            }
            #expect(fired == 20)
            for run in runs {
                let facts = try await RunStore(pool: pool).history(run: run).map {
                    try $0.entry.decodedFact()
                }
                #expect(facts.filter { $0.event.kind == "timer.fired" }.count == 1)
                #expect(
                    facts.last?.event == .runFinished(outcome: .cancelled, reason: "the run's timeout passed")
                )
            }
            let left = try await pool.withConnection {
                try await $0.query("SELECT count(*) FROM run_timers").first?.decode((Int64).self)
            }
            #expect(left == 0)
        }
    }

    @Test func aResultFromALostLeaseIsRefusedAndTheNewHolderIsRecorded() async throws {
        try await withMigratedDatabase { pool in
            try await push("flow: leased\nsteps:\n  - id: a\n    noop: {}\n", pool)
            let advancer = RunAdvancer(
                pool: pool, settings: EngineSettings(stepShards: 1, leaseDuration: .seconds(1)))
            let attempts = AttemptStore(advancer: advancer)
            let run = try await createRun("leased", at: .now, advancer: advancer, pool: pool)
            let dispatch = StepDispatch(
                runID: run, flow: "leased", version: 1, step: "a", attempt: 1, idempotencyKey: "\(run):a:1",
                correlationID: "c-\(run)")
            let first = try #require(try await attempts.claim(dispatch, executor: "first"))
            // A duplicate dispatch finds the attempt taken.
            #expect(try await attempts.claim(dispatch, executor: "other") == nil)
            // The first executor goes silent; once its lease expires the attempt is taken back.
            var reclaimed = 0
            for _ in 0..<100 where reclaimed == 0 {
                try await Task.sleep(for: .milliseconds(100))
                reclaimed = try await attempts.reclaimExpiredLeases()
            }
            #expect(reclaimed == 1)
            #expect(try await attempts.heartbeat(first) == false)
            let second = try #require(try await attempts.claim(dispatch, executor: "second"))
            #expect(second.leaseToken > first.leaseToken)
            #expect(
                try await attempts.complete(first, with: .succeeded(outputs: ["from": "first"])) == .refused)
            #expect(
                try await attempts.complete(second, with: .succeeded(outputs: ["from": "second"]))
                    == .recorded)
            let facts = try await RunStore(pool: pool).history(run: run).map { try $0.entry.decodedFact() }
            #expect(
                facts.contains {
                    $0.event == .stepSucceeded(step: "a", attempt: 1, outputs: ["from": "second"])
                })
            #expect(
                !facts.contains {
                    $0.event == .stepSucceeded(step: "a", attempt: 1, outputs: ["from": "first"])
                })
            #expect(facts.last?.event == .runFinished(outcome: .succeeded, reason: nil))
            // The re-dispatch the reclaim enqueued is in the outbox, beside the first one.
            let dispatches = try await pool.withConnection {
                try await $0.query("SELECT count(*) FROM outbox WHERE exchange = 'keel.steps'").first?.decode(
                    (Int64).self)
            }
            #expect(dispatches == 2)
        }
    }

    @Test func aProcessNeverAdvancesARunFromAStaleOrRolledBackState() async throws {
        try await withMigratedDatabase { pool in
            try await push(
                "flow: cached\nsteps:\n  - id: a\n    noop: {}\n  - id: b\n    needs: [a]\n    noop: {}\n",
                pool)
            // Two processes' advancers, each with its own cache.
            let mine = RunAdvancer(pool: pool)
            let theirs = RunAdvancer(pool: pool)
            let run = try await createRun("cached", at: .now, advancer: mine, pool: pool)
            let dispatch = StepDispatch(
                runID: run, flow: "cached", version: 1, step: "a", attempt: 1, idempotencyKey: "\(run):a:1",
                correlationID: "c-\(run)")
            let claimed = try #require(
                try await AttemptStore(advancer: mine).claim(dispatch, executor: "mine"))
            // The other process records the result: this process's cached state is now behind.
            #expect(
                try await AttemptStore(advancer: theirs).complete(claimed, with: .succeeded(outputs: [:]))
                    == .recorded)
            try await mine.advance(run: run) { state in
                #expect(state.steps["a"]?.status == .succeeded)
                #expect(state.steps["b"]?.status == .scheduled)
                return nil
            }
            // A transaction that advanced the run and then rolled back leaves no trace in what follows.
            struct Abandon: Error {}
            await #expect(throws: Abandon.self) {
                try await pool.withTransaction { connection in
                    try await mine.advance(run: run, on: connection) { _ in
                        RunFact(at: .now, event: .runCancelRequested(actor: "ana", reason: "abandoned"))
                    }
                    throw Abandon()
                }
            }
            try await mine.advance(run: run) { state in
                #expect(state.status == .running)
                #expect(state.cancelReason == nil)
                return nil
            }
            let facts = try await RunStore(pool: pool).history(run: run).map { try $0.entry.decodedFact() }
            #expect(!facts.contains { $0.event.kind == "run.cancel_requested" })
        }
    }
}
