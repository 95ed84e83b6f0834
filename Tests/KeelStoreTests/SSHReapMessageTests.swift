import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Stopping an `ssh` attempt whose job was started puts an `ssh.reap` request in the outbox, in the
/// transaction that stopped it, routed to the pool that ran the attempt.
@Suite struct SSHReapMessageTests {
    static let flow = """
        flow: remote
        steps:
          - id: bench
            runs_on: [gpu]
            ssh: {host: gpu-1, command: [./bench.sh]}
            wait: {timeout: 1h}
          - id: local
            needs: [bench]
            noop: {}
        """

    @Test func cancellingARunWithAWaitingSSHJobAsksForItsReaping() async throws {
        try await withMigratedDatabase { pool in
            let advancer = try await Self.prepare(pool)
            let run = try await Self.startedJob(pool, advancer: advancer)
            try await advancer.advance(run: run) { _ in
                RunFact(at: .now, event: .runCancelRequested(actor: "ana", reason: "not needed"))
            }
            let reaps = try await Self.reapMessages(pool)
            try #require(reaps.count == 1)
            let (routingKey, headers, body) = reaps[0]
            #expect(routingKey == "gpu.0")
            #expect(headers["keel-type"] == .string("ssh.reap"))
            let request = try #require(SSHReapRequest(json: body))
            #expect(
                request
                    == SSHReapRequest(
                        runID: run, step: "bench", attempt: 1, idempotencyKey: "\(run):bench:1",
                        host: "gpu-1",
                        pid: 4242, reason: "not needed", flow: "remote", version: 1, correlationID: "c-\(run)"
                    ))
        }
    }

    @Test func aRunCancelledBeforeTheJobStartedAsksForNoReaping() async throws {
        try await withMigratedDatabase { pool in
            let advancer = try await Self.prepare(pool)
            let run = try await Self.createRun(pool, advancer: advancer)
            try await advancer.advance(run: run) { _ in
                RunFact(at: .now, event: .runCancelRequested(actor: "ana", reason: "not needed"))
            }
            #expect(try await Self.reapMessages(pool).isEmpty)
        }
    }

    @Test func theReapTakesTheRouteOfTheDispatchThatFollowedTheShardKey() async throws {
        try await withMigratedDatabase { pool in
            let shards = 16
            let advancer = try await Self.prepare(pool, yaml: Self.shardedFlow, shards: shards)
            var generator = SystemRandomNumberGenerator()
            let id = RunID.make(
                millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch, using: &generator)
            // A tenant whose shard differs from the run id's: the reap must follow the tenant.
            let tenant = try #require(
                (0..<1_000).map { "tenant-\($0)" }.first {
                    StepRoute.shard(of: $0, shards: shards)
                        != StepRoute.shard(of: id.description, shards: shards)
                })
            let run = try await Self.startedJob(
                pool, advancer: advancer, id: id, flow: "sharded", input: ["tenant": .string(tenant)])
            try await advancer.advance(run: run) { _ in
                RunFact(at: .now, event: .runCancelRequested(actor: "ana", reason: "not needed"))
            }
            let dispatches = try await pool.withConnection {
                try await $0.query(
                    "SELECT routing_key FROM outbox WHERE headers->>'keel-type' = 'step.dispatch'")
            }.map { try $0.decode((String).self) }
            #expect(dispatches == ["gpu.\(StepRoute.shard(of: tenant, shards: shards))"])
            let reaps = try await Self.reapMessages(pool)
            try #require(reaps.count == 1)
            #expect(reaps[0].0 == dispatches.first)
        }
    }

    static let shardedFlow = """
        flow: sharded
        input:
          type: object
          properties:
            tenant: {type: string}
        shard_key: "${{ input.tenant }}"
        steps:
          - id: bench
            runs_on: [gpu]
            ssh: {host: gpu-1, command: [./bench.sh]}
            wait: {timeout: 1h}
        """

    static func prepare(_ pool: PGPool, yaml: String = Self.flow, shards: Int = 1) async throws
        -> RunAdvancer
    {
        let flow = try FlowParser.parse(yaml: yaml, file: "flow.yaml")
        _ = try await FlowStore(pool: pool).push(
            flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
            source: yaml, author: "ana")
        return RunAdvancer(pool: pool, settings: EngineSettings(stepShards: shards))
    }

    static func createRun(
        _ pool: PGPool, advancer: RunAdvancer, id: RunID? = nil, flow: String = "remote",
        input: JSONValue = [:]
    ) async throws -> RunID {
        var generator = SystemRandomNumberGenerator()
        let id =
            id
            ?? RunID.make(millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch, using: &generator)
        let run = NewRun(
            id: id, flow: flow, version: 1, input: input, idempotencyKey: id.description,
            correlationID: "c-\(id)",
            actor: "ana")
        _ = try await RunStore(pool: pool).create(run, at: .now, advancer: advancer) { _ in [] }
        return id
    }

    /// A run whose `bench` attempt started its job (pid 4242) and now waits for the callback.
    static func startedJob(
        _ pool: PGPool, advancer: RunAdvancer, id: RunID? = nil, flow: String = "remote",
        input: JSONValue = [:]
    ) async throws -> RunID {
        let run = try await createRun(pool, advancer: advancer, id: id, flow: flow, input: input)
        let attempts = AttemptStore(advancer: advancer)
        let dispatch = StepDispatch(
            runID: run, flow: flow, version: 1, step: "bench", attempt: 1,
            idempotencyKey: "\(run):bench:1",
            correlationID: "c-\(run)")
        let claimed = try #require(try await attempts.claim(dispatch, executor: "gpu-executor"))
        let recorded = try await attempts.complete(
            claimed, with: .succeeded(outputs: ["host": "gpu-1", "pid": 4242, "log": ".keel/jobs/x.log"]))
        #expect(recorded == .recorded)
        #expect(try await reapMessages(pool).isEmpty)
        return run
    }

    /// Routing key, headers and body of every `ssh.reap` message in the outbox.
    static func reapMessages(_ pool: PGPool) async throws -> [(String, JSONObject, JSONValue)] {
        let rows = try await pool.withConnection {
            try await $0.query(
                "SELECT routing_key, headers::text, body FROM outbox WHERE headers->>'keel-type' = 'ssh.reap'"
            )
        }
        return try rows.map { row in
            let (routingKey, headersText, bodyBytes) = try row.decode((String, String, [UInt8]).self)
            let headers = try JSONValue(parsing: headersText).objectValue ?? [:]
            let body = try JSONValue(parsing: bodyBytes)
            return (routingKey, headers, body)
        }
    }
}
