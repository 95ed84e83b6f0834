import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Run creation against the real PostgreSQL: one run per (flow, idempotency key), its first facts and
/// its messages in the same transaction.
@Suite struct RunStoreTests {
    static let flowYAML = "flow: demo\nsteps:\n  - id: a\n    noop: {}\n"

    func pushDemo(_ pool: PGPool) async throws {
        let flow = try FlowParser.parse(yaml: Self.flowYAML, file: "demo.yaml")
        _ = try await FlowStore(pool: pool).push(
            flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
            source: Self.flowYAML, author: "ana")
    }

    func newRun(key: String) -> NewRun {
        var generator = SystemRandomNumberGenerator()
        return NewRun(
            id: RunID.make(millisecondsSinceEpoch: 1_764_201_600_000, using: &generator), flow: "demo",
            version: 1,
            input: ["task": "x"], idempotencyKey: key, correlationID: "c-1", actor: "ana", replyTo: "replies")
    }

    func fact(_ run: NewRun) -> RunFact {
        RunFact(
            at: Timestamp(millisecondsSinceEpoch: 1_764_201_600_123),
            event: .runTriggered(
                RunTrigger(
                    runID: run.id, flow: run.flow, version: run.version, input: run.input, actor: run.actor,
                    correlationID: run.correlationID, idempotencyKey: run.idempotencyKey, replyTo: run.replyTo
                )))
    }

    @Test func createsOnceStoresTheFactAndEnqueuesMessagesInTheSameTransaction() async throws {
        try await withMigratedDatabase { pool in
            try await pushDemo(pool)
            let store = RunStore(pool: pool)
            let first = newRun(key: "k-1")
            let reply: @Sendable (RunCreation) -> [OutboxMessage] = { creation in
                [
                    OutboxMessage(
                        exchange: "", routingKey: "replies", body: Array(creation.runID.description.utf8))
                ]
            }
            let advancer = RunAdvancer(pool: pool, settings: EngineSettings(stepShards: 4))
            let created = try await store.create(
                first, at: Timestamp(millisecondsSinceEpoch: 1_764_201_600_123), advancer: advancer,
                outbox: reply)
            #expect(created == .created(runID: first.id))

            let repeated = newRun(key: "k-1")
            let again = try await store.create(
                repeated, at: Timestamp(millisecondsSinceEpoch: 1_764_201_600_999), advancer: advancer,
                outbox: reply)
            #expect(again == .existing(runID: first.id, version: 1))
            let runs = try await pool.withConnection { connection in
                try await connection.query("SELECT count(*)::int8 FROM runs").first?.decode((Int).self)
            }
            #expect(runs == 1)

            let rows = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT kind, actor, fact::text FROM run_history ORDER BY run_id, seq"
                ).map { try $0.decode((String, String?, String).self) }
            }
            // The trigger, then the reducer's decision: the flow's only step is scheduled.
            #expect(rows.map(\.0) == ["run.triggered", "step.scheduled"])
            #expect(rows[0].1 == "ana")
            let stored = HistoryEntry(kind: "run.triggered", fact: rows[0].2)
            #expect(try stored.decodedFact() == fact(first))

            // The step's dispatch and the creation's reply, then only the repeat's reply naming the same run.
            let messages = try await pool.withConnection { connection in
                try await connection.query("SELECT exchange, routing_key, body FROM outbox ORDER BY id").map {
                    try $0.decode((String, String, [UInt8]).self)
                }
            }
            try #require(messages.count == 3)
            #expect(messages[0].0 == "keel.steps")
            #expect(messages[0].1 == "default.\(StepRoute.shard(of: first.id.description, shards: 4))")
            let dispatch = try #require(StepDispatch(json: try JSONValue(parsing: messages[0].2)))
            #expect(
                dispatch
                    == StepDispatch(
                        runID: first.id, flow: "demo", version: 1, step: "a", attempt: 1,
                        idempotencyKey: "\(first.id):a:1", correlationID: "c-1"))
            #expect(
                messages[1...].map { String(decoding: $0.2, as: UTF8.self) } == [
                    first.id.description, first.id.description,
                ])
            let state = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT status, last_seq FROM runs WHERE id = \(first.id)"
                ).first?.decode((String, Int).self)
            }
            #expect(state?.0 == "running")
            #expect(state?.1 == 2)
        }
    }

    @Test func aFailingTransactionLeavesNoRunNoFactAndNoMessage() async throws {
        try await withMigratedDatabase { pool in
            try await pushDemo(pool)
            let run = newRun(key: "k-2")
            // The last write (two replies with one message id) fails after the run, its facts and its
            // dispatch were written: all of it must roll back.
            let id = UUID()
            await #expect(throws: PGError.self) {
                try await RunStore(pool: pool).create(
                    run, at: Timestamp(millisecondsSinceEpoch: 0), advancer: RunAdvancer(pool: pool)
                ) { _ in
                    [
                        OutboxMessage(exchange: "", routingKey: "replies", messageID: id, body: []),
                        OutboxMessage(exchange: "", routingKey: "replies", messageID: id, body: []),
                    ]
                }
            }
            let counts = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT (SELECT count(*) FROM runs)::int8, (SELECT count(*) FROM run_history)::int8, (SELECT count(*) FROM outbox)::int8"
                ).first.map { row -> [Int] in
                    let (runs, history, outbox) = try row.decode((Int, Int, Int).self)
                    return [runs, history, outbox]
                }
            }
            #expect(counts == [0, 0, 0])
        }
    }
}
