import Foundation
import KeelTestSupport
import PGClient
import Testing

extension PGClientTests {
    /// The server goes away under a pool and a listen stream. These tests run the real server script,
    /// so the enclosing suite is serialized: nothing else of this module runs while the server is down.
    @Suite struct ServerRestart {
        static let script = "scripts/servers/postgres.sh"

        /// During `restart` an in-flight query fails with `.connectionClosed`; afterwards the pool
        /// serves queries without the caller doing anything, and the listen stream delivers again.
        @Test func poolAndListenStreamSurviveARestart() async throws {
            try await PGTest.withPool(size: 2) { pool in
                let channel = PGTest.uniqueName("restart")
                let notifications = try await pool.listen(channel)
                let log = PayloadLog()
                let consumer = Task {
                    for await notification in notifications { await log.append(notification.payload) }
                }
                defer { consumer.cancel() }

                try await pool.withConnection {
                    try await $0.execute("SELECT pg_notify(\(channel), 'before')")
                }
                try await waitUntil("the notification before the restart", within: .seconds(20)) {
                    await log.payloads.contains("before")
                }

                let inFlight = Task {
                    try await pool.withConnection { try await $0.execute("SELECT pg_sleep(60)") }
                }
                try await waitUntil("the long query runs", within: .seconds(20)) {
                    try await pool.withConnection { connection in
                        let rows = try await connection.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'"
                        )
                        return try rows[0].decode((Int).self) == 1
                    }
                }

                try await TestEnvironment.runScript(Self.script, "restart")

                let outcome = try await PGTest.within(.seconds(30), "the in-flight query to fail") {
                    await inFlight.result
                }
                let error = try #require(throws: PGError.self) { try outcome.get() }
                #expect(error.code == .connectionClosed)

                // Both pooled connections died with the old server; the first uses after it is back just work.
                let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                    for value in 1...2 {
                        group.addTask {
                            try await pool.withConnection { connection in
                                try await connection.query("SELECT \(value) FROM pg_sleep(0.1)")[0].decode(
                                    (Int).self)
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }.sorted()
                }
                #expect(answers == [1, 2])
                #expect(pool.statistics.open <= 2)

                // The listen stream reconnects on its own; notify until a post-restart payload arrives.
                var sent = 0
                try await waitUntil(
                    "a notification after the restart", within: .seconds(30), every: .milliseconds(200)
                ) {
                    sent += 1
                    try await pool.withConnection {
                        try await $0.execute("SELECT pg_notify(\(channel), \("after \(sent)"))")
                    }
                    return await log.payloads.contains { $0.hasPrefix("after ") }
                }
                let payloads = await log.payloads
                #expect(payloads.first == "before")
                #expect(payloads.dropFirst().allSatisfy { $0.hasPrefix("after ") })
            }
        }

        /// While the server is stopped, queries fail with `.connectionFailed` (not a hang); after it
        /// starts again the same pool works.
        @Test func queriesFailWhileDownAndRecoverAfter() async throws {
            let configuration = try PGTest.configuration()
            try await PGTest.withPool(size: 2) { pool in
                #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)

                try await TestEnvironment.runScript(Self.script, "stop")
                // Expectations record failures without throwing, so the server is always started again.
                let error = await #expect(throws: PGError.self) {
                    try await pool.withConnection { try await $0.query("SELECT 1").count }
                }
                #expect(error?.code == .connectionFailed)
                #expect(pool.statistics.open == 0, "the failed slot was given back")
                let direct = await #expect(throws: PGError.self) {
                    try await PGConnection.connect(configuration, logger: PGTest.logger)
                }
                #expect(direct?.code == .connectionFailed)
                try await TestEnvironment.runScript(Self.script, "start")

                let value = try await pool.withConnection { connection in
                    try await connection.query("SELECT \(41) + 1")[0].decode((Int).self)
                }
                #expect(value == 42)
            }
        }

        /// A pool given several hosts (the first one down) and `target_session_attrs=read-write` finds the
        /// server, and finds it again after the server restarts.
        @Test func aPoolOnSeveralHostsComesBackAfterARestart() async throws {
            let dead = TestHTTP.freePort()
            let base = try TestEnvironment.require("KEEL_DATABASE_URL")
            let port = try #require(URLComponents(string: base)?.port)
            let url =
                base.replacingOccurrences(
                    of: "@127.0.0.1:\(port)", with: "@127.0.0.1:\(dead),127.0.0.1:\(port)")
                + (base.contains("?") ? "&" : "?") + "target_session_attrs=read-write"
            var configuration = try PGConfiguration(url: url)
            configuration.connectTimeout = .seconds(15)
            let pool = PGPool(configuration: configuration, size: 2, logger: PGTest.logger)
            do {
                #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)
                try await TestEnvironment.runScript(Self.script, "restart")
                try await waitUntil("a query after the restart", within: .seconds(30)) {
                    (try? await pool.withConnection { try await $0.query("SELECT 1").count }) == 1
                }
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
        }
    }
}

actor PayloadLog {
    private(set) var payloads: [String] = []

    func append(_ payload: String) {
        payloads.append(payload)
    }
}
