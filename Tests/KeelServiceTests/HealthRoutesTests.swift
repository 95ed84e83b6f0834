import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import KeelService
import Logging
import Prometheus
import Testing

/// The HTTP layer of every service, with in-memory readiness checks (the real dependencies are exercised
/// by the end-to-end tests).
@Suite struct HealthRoutesTests {
    struct Down: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    func app(
        checks: [ReadinessCheck], routes: @escaping (Router<BasicRequestContext>) -> Void = { _ in }
    )
        throws -> some ApplicationProtocol
    {
        let configuration = try KeelConfiguration(
            service: .callbackGateway, reader: ConfigReader(providers: [InMemoryProvider(values: [:])]))
        return buildApplication(
            configuration: configuration,
            readiness: Readiness(checks: checks, timeout: .milliseconds(300)),
            registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"), routes: routes)
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
                #expect(detail.contains("rabbitmq: connection refused"))
                #expect(detail.contains("schema: no answer within"))
                #expect(!detail.contains("postgres"))
            }
        }
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
