import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import KeelService
@testable import KeelStore
import Logging
import PGClient
import Prometheus
import Synchronization
import Testing

/// The HTTP layer of every service, with in-memory readiness checks (the real dependencies are exercised
/// by the end-to-end tests).
@Suite struct HealthRoutesTests {
    struct Down: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    /// What a failing database error says: the things `/health/ready` must never repeat.
    struct Leaky: Error, CustomStringConvertible {
        var description: String {
            "FATAL: password authentication failed for user \"svc_ledger\" at db-7.internal.example:5432 [query: SELECT token FROM secrets]"
        }
    }

    func app(
        checks: [ReadinessCheck], log: LogLines? = nil,
        routes: @escaping (Router<BasicRequestContext>) -> Void = { _ in }
    )
        throws -> some ApplicationProtocol
    {
        let configuration = try KeelConfiguration(
            service: .callbackGateway, reader: ConfigReader(providers: [InMemoryProvider(values: [:])]))
        let logger = log?.logger ?? Logger(label: "test")
        return buildApplication(
            configuration: configuration,
            readiness: Readiness(checks: checks, timeout: .milliseconds(300), logger: logger),
            registry: PrometheusCollectorRegistry(), logger: logger, routes: routes)
    }

    /// The 503 problem `/health/ready` answers with.
    func notReadyProblem(_ application: some ApplicationProtocol) async throws -> ProblemDetails {
        try await application.test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                return try JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
            }
        }
    }

    @Test func liveAnswersWithoutDependencies() async throws {
        try await app(checks: [ReadinessCheck(name: "postgres") { throw Down() }]).test(.router) {
            client in
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"service\":\"callback-gateway\""))
            }
        }
    }

    @Test func readyIs503ProblemNamingTheFailingDependency() async throws {
        let checks = [
            ReadinessCheck(name: "postgres") {},
            ReadinessCheck(name: "rabbitmq") { throw Down() },
            ReadinessCheck(name: "schema") { try await Task.sleep(for: .seconds(5)) },
        ]
        try await app(checks: checks).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONDecoder().decode(
                    ProblemDetails.self, from: Data(buffer: response.body))
                #expect(problem.statusCode == 503)
                #expect(problem.type == "/problems/not-ready")
                let detail = try #require(problem.detail)
                #expect(detail.contains("rabbitmq: not ready"), "a check's default reason")
                #expect(detail.contains("schema: no answer within"))
                #expect(!detail.contains("postgres"))
            }
        }
    }

    @Test func readyNamesTheFailingDependencyButNeverItsErrorText() async throws {
        let log = LogLines()
        let checks = [ReadinessCheck(name: "postgres", reason: { _ in "cannot connect" }) { throw Leaky() }]
        let problem = try await notReadyProblem(try app(checks: checks, log: log))
        let detail = try #require(problem.detail)
        #expect(detail == "postgres: cannot connect")
        for secret in ["svc_ledger", "db-7.internal", "5432", "SELECT", "password"] {
            #expect(!detail.contains(secret), "\(secret) in \(detail)")
        }
        #expect(
            log.lines.contains { $0.contains("readiness check failed") && $0.contains("svc_ledger") },
            "the detailed error goes to the log: \(log.lines)")
    }

    /// The real database check, against a port nobody listens on: the reason is the kind of failure.
    @Test func theDatabaseCheckReportsOnlyTheKindOfFailure() async throws {
        let pool = PGPool(
            configuration: try PGConfiguration(
                url: "postgres://svc_ledger:hunter2@127.0.0.1:1/ledger_prod?connect_timeout=2"),
            size: 1, logger: Logger(label: "test"))
        let problem = try await notReadyProblem(
            try app(checks: [PGPoolService(pool: pool).readinessCheck]))
        await pool.close()
        #expect(problem.detail == "postgres: cannot connect")
    }

    @Test func theSchemaCheckSaysHowFarBehindInVersionsOnly() {
        let applied = (1...12).map { AppliedMigration(version: $0, name: "m\($0)", checksum: "x") }
        let behind = PGPoolService.SchemaNotCurrent(status: SchemaStatus(applied: applied))
        #expect(
            behind.publicReason(needed: 14)
                == "migrations behind: database at 12, this build needs 14 (run keel migrate)")
        var ahead = SchemaStatus(applied: applied)
        ahead.unknown = [applied[11]]
        #expect(!ahead.isUsable)
        #expect(
            PGPoolService.SchemaNotCurrent(status: ahead).publicReason(needed: 11)
                == "database ahead: database at 12, this build knows up to 11, and a newer migration is not marked compatible"
        )
        // A newer migration marked expand-only leaves this build usable, though not current.
        ahead.unknown = [AppliedMigration(version: 12, name: "m12", checksum: "x", compatible: true)]
        #expect(ahead.isUsable && !ahead.isCurrent)
    }

    @Test func readyIs200WhenAllChecksPass() async throws {
        try await app(checks: [ReadinessCheck(name: "postgres") {}]).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ready\":true"))
            }
        }
    }

    @Test func unknownErrorsBecomeOpaqueProblems() async throws {
        struct Leaky: Error, CustomStringConvertible {
            var description: String { "password=hunter2 at /src/Secret.swift:12" }
        }
        let application = try app(checks: []) { router in
            router.get("/boom") { _, _ -> String in throw Leaky() }
            router.get("/teapot") { _, _ -> String in
                throw HTTPError(.badRequest, message: "field 'x' must be a string")
            }
        }
        try await application.test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = String(buffer: response.body)
                #expect(!body.contains("hunter2"))
                #expect(!body.contains("Secret.swift"))
                #expect(body.contains("incident"))
            }
            try await client.execute(uri: "/teapot", method: .get) { response in
                #expect(response.status == .badRequest)
                let problem = try JSONDecoder().decode(
                    ProblemDetails.self, from: Data(buffer: response.body))
                #expect(problem.detail == "field 'x' must be a string")
                #expect(problem.instance == "/teapot")
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}

/// A logger whose lines a test can read.
final class LogLines: Sendable {
    private let collected = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "keel.test") { label in
            KeelLogHandler(
                label: label, service: "callback-gateway", format: .logfmt, level: .debug, secrets: [],
                sink: { line in self.collected.withLock { $0.append(line) } })
        }
    }

    var lines: [String] { collected.withLock { $0 } }
}
