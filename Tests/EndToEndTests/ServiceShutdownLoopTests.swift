import Foundation
import KeelTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Each service, started, put under load and sent SIGTERM, over and over: every time it must exit with
/// status 0, never killed by a signal — the intermittent SIGSEGV in libcrypto at exit was exit-time
/// clean-up racing the PostgreSQL and RabbitMQ threads still ending. `KEEL_SHUTDOWN_LOOPS` sets the
/// iterations per service (5 by default, so CI stays fast).
@Suite(.serialized) struct ServiceShutdownLoopTests {
    static let loops = Int(ProcessInfo.processInfo.environment["KEEL_SHUTDOWN_LOOPS"] ?? "") ?? 5

    @Test(arguments: ServiceLifecycleTests.services)
    func aServiceUnderLoadAlwaysExitsWithZeroOnSIGTERM(_ name: String) async throws {
        let database = try await TestDatabase.create()
        let migrated = try await ServiceProcess.run("keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrated.status == 0, "keel migrate failed: \(migrated.output)")
        let amqpURL = try TestEnvironment.require("KEEL_AMQP_URL")
        var statuses: [String: Int] = [:]
        for iteration in 1...Self.loops {
            let port = TestHTTP.freePort()
            let process = try ServiceProcess(
                name,
                environment: [
                    "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": amqpURL, "KEEL_HTTP_PORT": "\(port)",
                    "KEEL_DATABASE_POOL_SIZE": "4",
                ].merging(
                    name == "callback-gateway" ? ["KEEL_CALLBACK_KEYS": ServiceLifecycleTests.callbackKeys] : [:]
                ) { $1 })
            let base = "http://127.0.0.1:\(port)"
            let ready = await TestHTTP.waitFor(base + "/health/ready", status: 200, timeout: .seconds(60))
            #expect(ready?.status == 200, "\(name) #\(iteration) not ready:\n\(process.output)")
            // Load that uses its PostgreSQL pool and broker connection while it stops: readiness probes
            // (a query and a broker check each), metrics, and — for the gateway — callbacks.
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            for request in 0..<50 {
                                let path = ["/health/ready", "/metrics", "/health/live"][(worker + request) % 3]
                                if name == "callback-gateway", request % 2 == 0 {
                                    _ = try? await TestHTTP.send(
                                        "POST", base + "/v1/callbacks", headers: ["Authorization": "Bearer kcb1.x.y.z"],
                                        body: #"{"status": "succeeded"}"#)
                                } else {
                                    _ = await TestHTTP.get(base + path)
                                }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
            let status = await process.stop(signal: SIGTERM, timeout: .seconds(30))
            load.cancel()
            await load.value
            let outcome =
                if let signal = process.endingSignal { "signal \(signal)" } else { "status \(status.map(String.init) ?? "none (hung)")" }
            statuses[outcome, default: 0] += 1
            #expect(
                outcome == "status 0",
                "\(name) #\(iteration) ended with \(outcome):\n\(process.output.suffix(4000))")
        }
        print("\(name): \(Self.loops) SIGTERMs under load: \(statuses)")
        try await database.drop()
    }
}
