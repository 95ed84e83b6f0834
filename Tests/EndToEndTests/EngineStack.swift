import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// The engine as deployed, for end-to-end tests: a fresh database and virtual host, the real
/// trigger-intake and any number of real step-executors on them, and a plain AMQP client that
/// publishes triggers exactly as DESIGN §4 describes.
final class EngineStack: KeelCLITesting, @unchecked Sendable {
    // @unchecked: `executors` is only touched by the test's own task.
    let database: TestDatabase
    let pool: PGPool
    let vhost: TestVirtualHost
    let intake: ServiceProcess
    var executors: [ServiceProcess] = []
    /// Started by `startApprovalService()`.
    var approvalService: ServiceProcess?
    /// Started by `startCallbackGateway(port:)`.
    var callbackGateway: ServiceProcess?
    /// More replicas of trigger-intake, the approval-service and the callback-gateway (`startReplica`).
    var replicas: [ServiceProcess] = []
    let connection: AMQPConnection
    let channel: AMQPChannel
    /// Settings every service of this stack gets (lease, shards).
    let environment: [String: String]
    /// A scratch folder for the flows' side-effect logs.
    let scratch: URL
    /// Whether the test gave a database URL of its own, which the services then use as given.
    let ownDatabaseURL: Bool
    /// Each service's own broker user's URL, when the stack was made with `brokerUsers`.
    let brokerURLs: [DatabaseRole: String]

    /// - Parameter startingExecutor: false when the test starts its executors itself (with settings of
    ///   their own, such as a database URL through a proxy).
    /// - Parameter brokerUsers: true to run each service as a broker user of its own, with only the
    ///   permissions `keel broker user` gives it (the stack's own client keeps the vhost's full user).
    init(
        flows: [String], lease: Int = 3, environment extra: [String: String] = [:],
        startingExecutor: Bool = true, brokerUsers: Bool = false, virtualHost: TestVirtualHost? = nil
    ) async throws {
        database = try await TestDatabase.create()
        if let virtualHost { vhost = virtualHost } else { vhost = try await TestVirtualHost.create() }
        environment = [
            "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": vhost.url,
            "KEEL_STEP_LEASE_SECONDS": "\(lease)",
            "KEEL_STEP_SHARDS": "2", "KEEL_DATABASE_POOL_SIZE": "6",
        ].merging(extra) { _, given in given }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-e2e-\(UUID().uuidString)")
        // Steps run as uids of their own (KEEL_STEP_ISOLATION=uid-range): the flows' side-effect files are
        // shared between them.
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: scratch.path)
        pool = try database.pool(size: 3)
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        // Each service as deployed: a login in its own least-privilege role, unless the test routes the
        // database through something of its own (a proxy).
        ownDatabaseURL = extra["KEEL_DATABASE_URL"] != nil
        brokerURLs = brokerUsers ? try await Self.brokerUsers(on: vhost) : [:]
        intake = try await Self.start(
            "trigger-intake",
            try await Self.environment(
                environment, as: .triggerIntake, own: ownDatabaseURL, broker: brokerURLs))
        connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: vhost.url), logger: Logger(label: "test"))
        channel = try await connection.openChannel()
        try await channel.enablePublisherConfirms()
        try await KeelTopology.triggerIntake.declare(on: channel)
        // The executors declare their queues too; declaring them here first means a test's own extra
        // binding on keel.steps can never be the only route a dispatch finds.
        try await KeelTopology.stepExecutor(pool: "default", shards: 2).declare(on: channel)
        for flow in flows {
            let file = try temporaryFile(flow)
            let name = try FlowParser.parse(yaml: flow, file: "flow.yaml").name
            #expect(try await keel(["flow", "push", file], database: database).status == 0)
            #expect(try await keel(["flow", "release", name], database: database).status == 0)
        }
        if startingExecutor { try await startExecutor() }
    }

    /// `environment` with the database URL's user replaced by the service's login (`ServiceLogins`).
    static func environment(
        _ environment: [String: String], as role: DatabaseRole, own: Bool, broker: [DatabaseRole: String]
    ) async throws -> [String: String] {
        var environment = environment
        if let url = broker[role] { environment["KEEL_AMQP_URL"] = url }
        guard !own, let url = environment["KEEL_DATABASE_URL"] else { return environment }
        environment["KEEL_DATABASE_URL"] = try await ServiceLogins.url(url, as: role)
        return environment
    }

    /// A broker user per service on `vhost`, made by `keel broker user` exactly as an operator would;
    /// returns each service's AMQP URL. Users belong to the whole broker, so their names are fixed and
    /// their passwords set again each time.
    static func brokerUsers(on vhost: TestVirtualHost) async throws -> [DatabaseRole: String] {
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "broker-password-\(UUID().uuidString)")
        try Data("keel-e2e-broker".utf8).write(to: passwordFile)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        var urls: [DatabaseRole: String] = [:]
        for role in DatabaseRole.services {
            let user = "keel-e2e-\(role.rawValue)"
            let made = try await ServiceProcess.run(
                "keel",
                arguments: [
                    "broker", "user", user, "--service", role.rawValue, "--vhost", vhost.name,
                    "--password-file", passwordFile.path, "--amqp-url", vhost.url,
                ])
            try #require(made.status == 0, "keel broker user failed: \(made.output)")
            var components = try #require(URLComponents(string: vhost.url))
            components.user = user
            components.password = "keel-e2e-broker"
            urls[role] = components.string
        }
        return urls
    }

    /// Starts a service and waits until it serves `/health/live`: by then it handles SIGTERM, so a test
    /// that ends at once still stops it gracefully (a SIGTERM during start-up kills it, status 15).
    static func start(_ name: String, _ environment: [String: String]) async throws -> ServiceProcess {
        var environment = environment
        let port = TestHTTP.freePort()
        environment["KEEL_HTTP_PORT"] = "\(port)"
        let service = try ServiceProcess(name, environment: environment)
        let live = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/live", status: 200)
        #expect(live != nil, "\(name) did not come up:\n\(service.output)")
        return service
    }

    /// Starts one more step-executor.
    @discardableResult
    func startExecutor(_ extra: [String: String] = [:]) async throws -> ServiceProcess {
        let executor = try await Self.start(
            "step-executor",
            try await Self.environment(
                environment.merging(extra) { _, given in given }, as: .stepExecutor,
                own: ownDatabaseURL || extra["KEEL_DATABASE_URL"] != nil, broker: brokerURLs))
        executors.append(executor)
        return executor
    }

    /// Who publishes a trigger, as the broker sees it.
    enum Publisher {
        /// The stack's own account, with `user-id` set: the requester is `amqp:<account>`.
        case stack
        /// The stack's account without `user-id`: an unauthenticated requester.
        case unauthenticated
        /// An account of its own (`publisher(for:)`), with `user-id` set.
        case account(url: String)
    }

    /// Creates a broker account that publishes for `principal` with `keel publisher add`; returns its URL.
    /// Broker accounts are global, so the account's name is unique to this test.
    func publisher(for principal: String) async throws -> String {
        let name = "\(principal)-\(UUID().uuidString.prefix(8).lowercased())"
        let added = try await keel(
            ["publisher", "add", name, "--principal", principal, "--amqp-url", vhost.url, "--json"],
            database: database)
        try #require(added.status == 0, "keel publisher add failed: \(String(describing: added.json))")
        return try #require((added.json as? [String: Any])?["url"] as? String)
    }

    /// Publishes a trigger as any AMQP client would.
    func trigger(
        _ flow: String, input: String = "{}", key: String = UUID().uuidString, replyTo: String? = nil,
        actor: String = "e2e", traceparent: String? = nil, headers: [String: String] = [:],
        as publisher: Publisher = .stack
    )
        async throws
    {
        let body =
            #"{"flow": "\#(flow)", "input": \#(input), "idempotency_key": "\#(key)", "actor": "\#(actor)"}"#
        var table: AMQPTable = traceparent.map { ["traceparent": .string($0)] } ?? [:]
        for (name, value) in headers { table[name] = .string(value) }
        var properties = AMQPProperties(
            contentType: "application/json",
            headers: table,
            correlationID: "corr-\(key)", replyTo: replyTo, messageID: UUID().uuidString)
        switch publisher {
        case .stack:
            properties.userID = try AMQPConfiguration(url: vhost.url).user
            try await channel.publishRepublishingNacks(
                Array(body.utf8), exchange: "keel.triggers", routingKey: flow, properties: properties)
        case .unauthenticated:
            try await channel.publishRepublishingNacks(
                Array(body.utf8), exchange: "keel.triggers", routingKey: flow, properties: properties)
        case .account(let url):
            let configuration = try AMQPConfiguration(url: url)
            properties.userID = configuration.user
            let connection = try await AMQPConnection.connect(configuration, logger: Logger(label: "test"))
            do {
                let channel = try await connection.openChannel()
                try await channel.enablePublisherConfirms()
                try await channel.publish(
                    Array(body.utf8), exchange: "keel.triggers", routingKey: flow, properties: properties,
                    mandatory: true)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    /// Waits until `count` runs of `flow` exist and all are finished; returns their ids and statuses.
    /// Bounded by `timeout`, far beyond what a working engine needs.
    func waitForFinishedRuns(_ flow: String, count: Int, timeout: Duration = .seconds(120)) async throws
        -> [String: String]
    {
        let deadline = ContinuousClock.now + timeout
        var runs: [String: String] = [:]
        while ContinuousClock.now < deadline {
            runs = try await pool.withConnection { connection in
                var runs: [String: String] = [:]
                for row in try await connection.query("SELECT id, status FROM runs WHERE flow = \(flow)") {
                    let (id, status) = try row.decode((UUID, String).self)
                    runs[id.uuidString.lowercased()] = status
                }
                return runs
            }
            if runs.count >= count,
                runs.values.allSatisfy({ ["succeeded", "failed", "cancelled"].contains($0) })
            {
                return runs
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("runs of \(flow) did not finish: \(runs)\n\(try await diagnosis())\n\(logs)")
        return runs
    }

    /// Every attempt's row and every message the outbox has not sent, for a failure's message: what a run
    /// that stopped moving was doing, and what it was waiting to send.
    func diagnosis() async throws -> String {
        try await pool.withConnection { connection in
            let attempts = try await connection.query(
                "SELECT run_id::text, step, attempt::text, status, lease_token::text, lease_expires_at::text FROM step_attempts ORDER BY run_id, step"
            ).map { row -> String in
                let (run, step, attempt, status, token, expires) = try row.decode(
                    (String?, String?, String?, String?, String?, String?).self)
                return [run, step, attempt, status, token, expires].map { $0 ?? "-" }.joined(separator: " ")
            }
            let outbox = try await connection.query(
                "SELECT exchange, routing_key, attempts::text, coalesce(last_error, '') FROM outbox WHERE sent_at IS NULL"
            ).map { row -> String in
                let (exchange, routingKey, tries, lastError) = try row.decode(
                    (String?, String?, String?, String?).self)
                return [exchange, routingKey, tries, lastError].map { $0 ?? "-" }.joined(separator: " ")
            }
            return "attempts:\n" + attempts.joined(separator: "\n") + "\nunsent:\n"
                + outbox.joined(separator: "\n")
        }
    }

    /// The id of the run `trigger(flow, key: key)` created, once it exists.
    func runID(key: String, flow: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let id = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT id::text FROM runs WHERE flow = \(flow) AND idempotency_key = \(key)"
                ).first?.decode((String).self)
            }
            if let id { return id }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no run of \(flow) with key \(key):\n\(logs)")
        throw CancellationError()
    }

    /// Waits until the run is in `status` (bounded far beyond what a working engine needs).
    func waitForStatus(_ run: String, _ status: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        var current = ""
        while ContinuousClock.now < deadline {
            current = try await self.status(run)
            if current == status { return current }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("run \(run) stayed \(current), never \(status):\n\(logs)")
        return current
    }

    /// The rejection trigger-intake recorded for `trigger(_, key: key)`, once it exists.
    func rejection(key: String) async throws -> (reason: String, field: String?) {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let found = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT reason, field FROM trigger_rejections WHERE correlation_id = \("corr-" + key)"
                ).first.map { try $0.decode((String, String?).self) }
            }
            if let found { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no rejection of the trigger with key \(key):\n\(logs)")
        throw CancellationError()
    }

    /// Whether a run of `flow` with this idempotency key exists now.
    func runExists(key: String, flow: String) async throws -> Bool {
        try await pool.withConnection { connection in
            try await !connection.query(
                "SELECT 1 FROM runs WHERE flow = \(flow) AND idempotency_key = \(key)"
            ).isEmpty
        }
    }

    func status(_ run: String) async throws -> String {
        try await pool.withConnection { connection in
            try #require(
                try await connection.query("SELECT status FROM runs WHERE id = \(UUID(uuidString: run))")
                    .first
            ).decode((String).self)
        }
    }

    /// Waits until the run is finished and returns its status; records its history when it is not `expected`.
    func finish(_ run: String, expected: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        var current = ""
        while ContinuousClock.now < deadline {
            current = try await status(run)
            if ["succeeded", "failed", "cancelled"].contains(current) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if current != expected {
            let facts = try await history(run).map { "\($0.event.kind) \($0.event)" }
            Issue.record(
                "run \(run) is \(current), not \(expected):\n\(facts.joined(separator: "\n"))\n\(logs)")
        }
        return current
    }

    /// A run's facts, in order, decoded.
    func history(_ runID: String) async throws -> [RunFact] {
        try await RunStore(pool: pool).history(run: try #require(RunID(runID))).map {
            try $0.entry.decodedFact()
        }
    }

    /// Checks DESIGN invariant 2 on a stored run: replaying its history gives the stored state, and
    /// re-deciding its external facts gives the same derived facts.
    func expectHistoryReplays(_ runID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let facts = try await history(runID)
        let (flow, version, snapshot) = try await pool.withConnection { connection in
            let row = try #require(
                try await connection.query(
                    "SELECT flow, version, state::text FROM runs WHERE id = \(UUID(uuidString: runID))"
                ).first)
            return try row.decode((String, Int, String).self)
        }
        let record = try await FlowStore(pool: pool).version(flow: flow, number: version)
        let definition = try FlowDefinition(canonicalJSON: JSONValue(parsing: record.definition))
        let reducer = RunReducer(flow: definition)
        let replayed = RunState.replay(facts, flow: definition)
        let stored = try JSONDecoder().decode(RunSnapshot.self, from: Data(snapshot.utf8)).state(
            flow: definition)
        #expect(
            replayed == stored, "replay differs from the stored state of \(runID)",
            sourceLocation: sourceLocation)
        let redecided = reducer.redecide(facts)
        #expect(
            redecided.state == replayed, "re-deciding differs for \(runID)", sourceLocation: sourceLocation)
        #expect(
            redecided.derived == facts.filter(\.derived), "derived facts differ for \(runID)",
            sourceLocation: sourceLocation)
    }

    /// Side effects the flows' steps logged: one line per execution, `<run> <step> <attempt> <ms>`.
    func effects(_ file: String = "effects") -> [(run: String, step: String, attempt: Int, at: Int64)] {
        let text = (try? String(contentsOf: scratch.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, let attempt = Int(parts[2]), let at = Int64(parts[3]) else { return nil }
            return (String(parts[0]), String(parts[1]), attempt, at)
        }
    }

    /// No step whose completion was recorded ran its side effect again afterwards, and each of the steps
    /// that log (`logging`) did run it before.
    func expectNoEffectAfterCompletion(
        _ runID: String, logging: Set<String>, sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let facts = try await history(runID)
        var completed: [String: Int64] = [:]
        for fact in facts {
            if case .stepSucceeded(let step, _, _) = fact.event, completed[step] == nil {
                completed[step] = fact.at.millisecondsSinceEpoch
            }
        }
        let mine = effects().filter { $0.run == runID }
        for (step, at) in completed {
            let after = mine.filter { $0.step == step && $0.at > at }
            #expect(
                after.isEmpty, "\(step) of \(runID) ran again after its completion",
                sourceLocation: sourceLocation)
            if logging.contains(step) {
                let ran = mine.contains { $0.step == step }
                #expect(
                    ran, "\(step) of \(runID) succeeded without its side effect",
                    sourceLocation: sourceLocation)
            }
        }
    }

    var logs: String {
        (["trigger-intake:\n" + intake.output] + executors.map { "step-executor:\n" + $0.output }
            + [approvalService.map { "approval-service:\n" + $0.output } ?? ""]
            + [callbackGateway.map { "callback-gateway:\n" + $0.output } ?? ""]
            + replicas.map { "\($0.name) (replica):\n" + $0.output }).joined(separator: "\n")
    }

    /// Starts the real approval-service on a free port and returns its base URL once it is ready.
    func startApprovalService() async throws -> String {
        let port = TestHTTP.freePort()
        var environment = try await Self.environment(
            environment, as: .approvalService, own: ownDatabaseURL, broker: brokerURLs)
        environment["KEEL_HTTP_PORT"] = "\(port)"
        // Its account starts runs for the people its API authenticates, as `scripts/stack up` sets it up.
        let account = try AMQPConfiguration(url: environment["KEEL_AMQP_URL"] ?? vhost.url).user
        let trusted = try await ServiceProcess.run(
            "keel", arguments: ["publisher", "trust", account],
            environment: ["KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": vhost.url])
        try #require(trusted.status == 0, "keel publisher trust failed: \(trusted.output)")
        approvalService = try ServiceProcess("approval-service", environment: environment)
        let url = "http://127.0.0.1:\(port)"
        let ready = await TestHTTP.waitFor(url + "/health/ready", status: 200, timeout: .seconds(120))
        try #require(
            ready?.status == 200, "approval-service did not become ready:\n\(approvalService?.output ?? "")")
        return url
    }

    /// Starts the real callback-gateway on `port` (the one the executors were told in
    /// `KEEL_CALLBACK_GATEWAY_URL`) and returns its base URL once it is ready.
    func startCallbackGateway(port: Int) async throws -> String {
        var environment = try await Self.environment(
            environment, as: .callbackGateway, own: ownDatabaseURL, broker: brokerURLs)
        environment["KEEL_HTTP_PORT"] = "\(port)"
        callbackGateway = try ServiceProcess("callback-gateway", environment: environment)
        let url = "http://127.0.0.1:\(port)"
        let ready = await TestHTTP.waitFor(url + "/health/ready", status: 200, timeout: .seconds(120))
        try #require(
            ready?.status == 200, "callback-gateway did not become ready:\n\(callbackGateway?.output ?? "")")
        return url
    }

    /// Starts one more replica of trigger-intake, the approval-service or the callback-gateway (on a
    /// port of its own) with the stack's settings; step-executors come from `startExecutor`.
    @discardableResult
    func startReplica(of role: DatabaseRole) async throws -> ServiceProcess {
        let replica = try await Self.start(
            role.rawValue,
            try await Self.environment(environment, as: role, own: ownDatabaseURL, broker: brokerURLs))
        replicas.append(replica)
        return replica
    }

    /// Creates an API token as `keel token create` does, and returns it.
    func token(_ name: String, role: APITokenRole = .approver, groups: [String] = []) async throws -> String {
        try await APITokenStore(pool: pool).create(name: name, role: role, groups: groups, createdBy: "e2e")
            .token
    }

    /// How long a service may take to stop after SIGTERM: its outbox relay may be waiting for the broker
    /// to confirm a publish, which it does for up to its publish deadline (30 s), on a loaded machine.
    /// A service that takes longer has its thread stacks added to its output (`ServiceProcess.stop`).
    static let stopTimeout = Duration.seconds(45)

    func stop() async throws {
        try? await channel.close()
        await connection.close()
        for executor in executors where executor.isRunning {
            let status = await executor.stop(timeout: Self.stopTimeout)
            #expect(status == 0, "step-executor did not stop cleanly:\n\(executor.output)")
        }
        let status = await intake.stop(timeout: Self.stopTimeout)
        #expect(status == 0, "trigger-intake did not stop cleanly:\n\(intake.output)")
        for replica in replicas where replica.isRunning {
            let status = await replica.stop(timeout: Self.stopTimeout)
            #expect(status == 0, "\(replica.name) did not stop cleanly:\n\(replica.output)")
        }
        if let approvalService {
            let status = await approvalService.stop(timeout: Self.stopTimeout)
            #expect(status == 0, "approval-service did not stop cleanly:\n\(approvalService.output)")
        }
        if let callbackGateway {
            let status = await callbackGateway.stop(timeout: Self.stopTimeout)
            #expect(status == 0, "callback-gateway did not stop cleanly:\n\(callbackGateway.output)")
        }
        await pool.close()
        try await vhost.delete()
        try await database.drop()
        try? FileManager.default.removeItem(at: scratch)
    }
}
