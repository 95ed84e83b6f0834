import Foundation
import KeelTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The four real service executables against the real PostgreSQL and RabbitMQ: they start, report ready
/// only when their dependencies and schema are, serve metrics, keep secrets out of their logs, and stop
/// cleanly on SIGTERM.
@Suite(.serialized) struct ServiceLifecycleTests {
    static let services = ["trigger-intake", "step-executor", "approval-service", "callback-gateway"]

    func migratedDatabase() async throws -> TestDatabase {
        let database = try await TestDatabase.create()
        let result = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(result.status == 0, "keel migrate failed: \(result.output)")
        return database
    }

    /// A callback key for the callback-gateway, which does not start without one.
    static let callbackKeys = "test:" + Data(repeating: 42, count: 32).base64EncodedString()
    /// The keys and the one that signs, whatever signing key the developer's .keel/env names.
    static let callbackSettings = ["KEEL_CALLBACK_KEYS": callbackKeys, "KEEL_CALLBACK_SIGNING_KEY": "test"]

    @Test func theCallbackGatewayRefusesToStartWithoutItsKeys() async throws {
        let process = try ServiceProcess(
            "callback-gateway",
            environment: [
                "KEEL_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
                "KEEL_AMQP_URL": "amqp://127.0.0.1:1",
                "KEEL_HTTP_PORT": "\(TestHTTP.freePort())",
            ])
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!process.isRunning, "it started without keys")
        #expect(await process.stop() == 2)
        #expect(process.output.contains("KEEL_CALLBACK_KEYS: required"), "\(process.output)")
    }

    @Test(
        "Each service refuses a setting it cannot use with exit status 2, naming the setting, before it connects",
        arguments: [
            ("trigger-intake", "KEEL_HTTP_PORT", "99999"),
            ("step-executor", "KEEL_STEP_IN_PLACE_LIMIT", "none"),
            ("step-executor", "KEEL_SSH_HOSTS", "{not json"),
            ("step-executor", "KEEL_RESOURCE_BACKEND", "tape"),
            ("approval-service", "KEEL_WEBHOOK_FORMAT", "carrier-pigeon"),
            ("callback-gateway", "KEEL_CALLBACK_UPLOAD_MAX_BYTES", "-1"),
        ])
    func anUnusableSettingStopsTheServiceWithStatusTwo(service: String, setting: String, value: String)
        async throws
    {
        var environment = Self.callbackSettings
        // Nothing answers at these addresses: a service that got past its settings would fail differently.
        environment["KEEL_DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
        environment["KEEL_AMQP_URL"] = "amqp://127.0.0.1:1"
        environment["KEEL_HTTP_PORT"] = "\(TestHTTP.freePort())"
        environment["KEEL_STEP_ISOLATION"] = "none"
        environment["KEEL_CALLBACK_GATEWAY_URL"] = "http://127.0.0.1:1"
        environment[setting] = value
        let process = try ServiceProcess(service, environment: environment)
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!process.isRunning, "\(service) started with \(setting)=\(value)")
        #expect(await process.stop() == 2, "\(process.output)")
        let named =
            setting.hasPrefix("KEEL_WEBHOOK_") || setting == "KEEL_HTTP_PORT"
            ? ConfigKeyName.dotted(setting) : setting
        #expect(process.output.contains("invalid configuration"), "\(process.output)")
        #expect(process.output.contains(named), "\(process.output)")
        #expect(!process.output.contains("connected"), "\(process.output)")
    }

    @Test func everyServiceBecomesReadyServesMetricsAndStopsOnSIGTERM() async throws {
        let database = try await migratedDatabase()
        let amqpURL = try TestEnvironment.require("KEEL_AMQP_URL")
        var running: [(ServiceProcess, Int)] = []
        for name in Self.services {
            let port = TestHTTP.freePort()
            let process = try ServiceProcess(
                name,
                environment: [
                    "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": amqpURL, "KEEL_HTTP_PORT": "\(port)",
                ].merging(name == "callback-gateway" ? Self.callbackSettings : [:]) { $1 }
            )
            running.append((process, port))
        }
        for (process, port) in running {
            let ready = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/ready", status: 200)
            #expect(
                ready?.status == 200,
                "\(process.name) not ready: \(ready?.body ?? "no answer")\n\(process.output)")
            #expect(ready?.body.contains("\"rabbitmq\"") == true)

            let live = await TestHTTP.get("http://127.0.0.1:\(port)/health/live")
            #expect(live?.status == 200)
            let metrics = try #require(await TestHTTP.get("http://127.0.0.1:\(port)/metrics"))
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("keel_service_info{service=\"\(process.name)\""))
            #expect(metrics.body.contains("keel_dependency_up{dependency=\"postgres\"} 1"))
            #expect(metrics.body.contains("keel_dependency_up{dependency=\"schema\"} 1"))
            #expect(metrics.body.contains("keel_dependency_up{dependency=\"rabbitmq\"} 1"))
            // The request metrics middleware counted the probes above.
            #expect(metrics.body.contains("hb_requests"))
        }
        for (process, _) in running {
            let status = await process.stop(signal: SIGTERM)
            #expect(status == 0, "\(process.name) did not exit cleanly on SIGTERM:\n\(process.output)")
        }
        try await database.drop()
    }

    @Test func notReadyUntilTheSchemaIsMigrated() async throws {
        let database = try await TestDatabase.create()
        let port = TestHTTP.freePort()
        let process = try ServiceProcess(
            "step-executor",
            environment: [
                "KEEL_DATABASE_URL": database.url,
                "KEEL_AMQP_URL": try TestEnvironment.require("KEEL_AMQP_URL"),
                "KEEL_HTTP_PORT": "\(port)",
            ])
        let live = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/live", status: 200)
        #expect(live?.status == 200)
        // The first answers may also time the schema check out on a loaded machine; wait for its verdict.
        let readyURL = "http://127.0.0.1:\(port)/health/ready"
        let notReady = await TestHTTP.waitFor(readyURL, timeout: .seconds(30)) { answer in
            answer.status == 503 && answer.body.contains("keel migrate")
        }
        #expect(notReady?.status == 503)
        #expect(notReady?.body.contains("schema") == true)
        #expect(notReady?.body.contains("keel migrate") == true)

        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--json", "--database-url", database.url])
        #expect(migrate.status == 0)
        #expect(migrate.output.contains("\"appliedNow\""))
        #expect(migrate.output.contains("0001_flows.sql"))
        let ready = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/ready", status: 200)
        #expect(ready?.status == 200, "\(ready?.body ?? "")")
        #expect(await process.stop() == 0)
        try await database.drop()
    }

    /// A rolling upgrade: a newer build migrated the database one step further while this build's
    /// replicas still run. They stay ready when that migration is marked compatible (expand-only), and
    /// answer 503 when it is not.
    @Test func readyOnADatabaseMigratedFurtherOnlyWhenTheNewerMigrationIsCompatible() async throws {
        let database = try await migratedDatabase()
        let pool = try database.pool(size: 1)
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO keel_schema_migrations (version, name, checksum, duration_ms, compatible)
                VALUES (9999, '9999_a_newer_build.sql', 'from-a-newer-build', 0, true)
                """)
        }
        let port = TestHTTP.freePort()
        let process = try ServiceProcess(
            "trigger-intake",
            environment: [
                "KEEL_DATABASE_URL": database.url,
                "KEEL_AMQP_URL": try TestEnvironment.require("KEEL_AMQP_URL"),
                "KEEL_HTTP_PORT": "\(port)",
            ])
        let readyURL = "http://127.0.0.1:\(port)/health/ready"
        let ready = await TestHTTP.waitFor(readyURL, status: 200)
        #expect(ready?.status == 200, "\(ready?.body ?? "")\n\(process.output)")

        try await pool.withConnection { connection in
            try await connection.execute(
                "UPDATE keel_schema_migrations SET compatible = false WHERE version = 9999")
        }
        await pool.close()
        let notReady = await TestHTTP.waitFor(readyURL, timeout: .seconds(30)) { $0.status == 503 }
        #expect(notReady?.status == 503)
        #expect(notReady?.body.contains("database ahead") == true, "\(notReady?.body ?? "")")
        #expect(notReady?.body.contains("not marked compatible") == true, "\(notReady?.body ?? "")")
        // And `keel migrate` of this build still refuses to touch a database newer than it.
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        #expect(migrate.status != 0)
        #expect(migrate.output.contains("newer than this binary"), "\(migrate.output)")
        #expect(await process.stop() == 0)
        try await database.drop()
    }

    @Test func brokerCredentialsNeverReachLogsOrHealthAnswers() async throws {
        let database = try await migratedDatabase()
        let secret = "Wr0ng-" + UUID().uuidString
        let port = TestHTTP.freePort()
        let process = try ServiceProcess(
            "callback-gateway",
            environment: [
                "KEEL_DATABASE_URL": database.url,
                "KEEL_AMQP_URL":
                    "amqp://keel:\(secret)@127.0.0.1:\(try TestEnvironment.require("KEEL_AMQP_PORT"))/keel",
                "KEEL_HTTP_PORT": "\(port)", "KEEL_LOG_LEVEL": "trace",
                "KEEL_CALLBACK_KEYS": Self.callbackKeys, "KEEL_CALLBACK_SIGNING_KEY": "test",
            ])
        let answer = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/ready", status: 503)
        #expect(answer?.status == 503)
        #expect(answer?.body.contains("rabbitmq") == true)
        #expect(answer?.body.contains(secret) == false)
        // Wait (with a deadline) until the refused connections have been logged.
        let deadline = ContinuousClock.now + .seconds(30)
        while !process.output.contains("broker connection failed") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(process.output.contains("broker connection failed"))
        #expect(!process.output.contains(secret))
        #expect(await process.stop() == 0)
        try await database.drop()
    }

    @Test func keelMigrateExitCodes() async throws {
        let unreachable = try await ServiceProcess.run(
            "keel",
            arguments: [
                "migrate", "--json", "--database-url", "postgres://keel:Secret-Pw@127.0.0.1:1/keel",
            ])
        #expect(unreachable.status == 2, "\(unreachable.output)")
        #expect(unreachable.output.contains("\"kind\" : \"infrastructure\""))
        #expect(!unreachable.output.contains("Secret-Pw"))
        let malformed = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", "not a url"])
        #expect(malformed.status == 1, "\(malformed.output)")
    }
}

/// How settings read through a key rather than a variable name are named in their errors: `http.port`
/// for `KEEL_HTTP_PORT`.
enum ConfigKeyName {
    static func dotted(_ variable: String) -> String {
        variable.dropFirst("KEEL_".count).lowercased().replacingOccurrences(of: "_", with: ".")
    }
}
