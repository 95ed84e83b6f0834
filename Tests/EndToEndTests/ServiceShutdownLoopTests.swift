import Foundation
import KeelTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Each service, started, put under load and sent SIGTERM, over and over: every time it must exit with
/// status 0, never killed by a signal — the intermittent SIGSEGV in libcrypto at exit was exit-time
/// clean-up racing the PostgreSQL and RabbitMQ threads still ending. `KEEL_SHUTDOWN_LOOPS` sets the
/// iterations per service (5 by default, so CI stays fast); `KEEL_SHUTDOWN_SERVICES` (comma-separated)
/// picks some of the four.
@Suite(.serialized) struct ServiceShutdownLoopTests {
    static let loops = Int(ProcessInfo.processInfo.environment["KEEL_SHUTDOWN_LOOPS"] ?? "") ?? 5

    static let services =
        ProcessInfo.processInfo.environment["KEEL_SHUTDOWN_SERVICES"].map {
            $0.split(separator: ",").map(String.init)
        } ?? ServiceLifecycleTests.services

    @Test(arguments: services)
    func aServiceUnderLoadAlwaysExitsWithZeroOnSIGTERM(_ name: String) async throws {
        let database = try await TestDatabase.create()
        let migrated = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
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
                    name == "callback-gateway" ? ServiceLifecycleTests.callbackSettings : [:]
                ) { $1 })
            let base = "http://127.0.0.1:\(port)"
            let ready = await TestHTTP.waitFor(base + "/health/ready", status: 200, timeout: .seconds(60))
            #expect(ready?.status == 200, "\(name) #\(iteration) not ready:\n\(process.output)")
            // Load that uses its PostgreSQL pool and broker connection while it stops: readiness probes
            // (a query and a broker check each), metrics, and — for the gateway — callbacks.
            // Raw sockets rather than URLSession, whose requests may not end when the server goes away.
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            for request in 0..<40 {
                                let path = ["/health/ready", "/metrics", "/health/live"][
                                    (worker + request) % 3]
                                let callback = name == "callback-gateway" && request % 2 == 0
                                let body = callback ? #"{"status": "succeeded"}"# : ""
                                let head =
                                    callback
                                    ? "POST /v1/callbacks HTTP/1.1\r\nAuthorization: Bearer kcb1.x.y.z\r\n"
                                    : "GET \(path) HTTP/1.1\r\n"
                                let request =
                                    head
                                    + "Host: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                                    + body
                                guard (try? await TestHTTP.sendRaw(port: port, Array(request.utf8))) != nil
                                else {
                                    return  // it stopped listening
                                }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
            let status = await process.stop(signal: SIGTERM, timeout: .seconds(30))
            await load.value
            let outcome =
                if let signal = process.endingSignal { "signal \(signal)" } else {
                    "status \(status.map(String.init) ?? "none (hung)")"
                }
            statuses[outcome, default: 0] += 1
            // It waited for its libpq and librabbitmq threads, and they all ended.
            #expect(
                !process.output.contains("library threads still running"),
                "\(name) #\(iteration):\n\(process.output.suffix(2000))")
            // The backtrace of the crashed thread, when it crashed, else the end of its log.
            let output = process.output
            let shown = output.range(of: "crashed:").map { String(output[$0.lowerBound...].prefix(6000)) }
            #expect(
                outcome == "status 0",
                "\(name) #\(iteration) ended with \(outcome):\n\(shown ?? String(output.suffix(4000)))")
        }
        print("\(name): \(Self.loops) SIGTERMs under load: \(statuses)")
        try await database.drop()
    }
}
