import Foundation
import KeelTestSupport
import PGClient
import Testing

extension PGClientTests {
    /// The bounds on every wait: the server's statement and lock timeouts, the client's reply limit on
    /// a connection whose peer went silent, and a caller's wait for a pool connection.
    @Suite struct Timeouts {
        @Test func aSessionGetsTheDefaultStatementAndLockTimeouts() async throws {
            try await PGTest.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
                let (statementTimeout, lockTimeout) = try rows[0].decode((String, String).self)
                #expect(statementTimeout == "30s")
                #expect(lockTimeout == "10s")
            }
        }

        @Test func theURLOverridesTheStatementAndLockTimeouts() async throws {
            let base = try TestEnvironment.require("KEEL_DATABASE_URL")
            let configuration = try PGConfiguration(
                url: base + (base.contains("?") ? "&" : "?") + "statement_timeout=1500ms&lock_timeout=0")
            let connection = try await PGConnection.connect(configuration, logger: PGTest.logger)
            let rows = try await connection.query(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
            await connection.close()
            let (statementTimeout, lockTimeout) = try rows[0].decode((String, String).self)
            #expect(statementTimeout == "1500ms")
            #expect(lockTimeout == "0")
        }

        @Test func aStatementPastTheStatementTimeoutFailsAndTheConnectionStaysUsable() async throws {
            var configuration = try PGTest.configuration()
            configuration.statementTimeout = .milliseconds(300)
            let connection = try await PGConnection.connect(configuration, logger: PGTest.logger)
            let error = await #expect(throws: PGError.self) {
                try await connection.execute("SELECT pg_sleep(20)")
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "57014", "query_canceled by statement_timeout")
            #expect(try await connection.query("SELECT 1").count == 1)
            await connection.close()
        }

        @Test func aStatementWaitingForALockPastTheLockTimeoutFails() async throws {
            let table = PGTest.uniqueName("locked")
            try await PGTest.withConnection { holder in
                try await holder.executeScript("CREATE TABLE \(table) (x int)")
                try await holder.executeScript("BEGIN; LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
                var configuration = try PGTest.configuration()
                configuration.lockTimeout = .milliseconds(300)
                let waiter = try await PGConnection.connect(configuration, logger: PGTest.logger)
                let error = await #expect(throws: PGError.self) {
                    try await waiter.execute("SELECT count(*) FROM \(unescaped: table)")
                }
                #expect(error?.sqlState == "55P03", "lock_not_available")
                await waiter.close()
                try await holder.executeScript("ROLLBACK; DROP TABLE \(table)")
            }
        }

        /// The proxy stops forwarding mid-session: without a client-side limit the statement would wait
        /// for an answer that never comes (on a real network, for as long as TCP keeps the socket).
        @Test func aStatementOnASilentConnectionTimesOutAndClosesIt() async throws {
            var configuration = try PGTest.configuration()
            let proxy = try StallingProxy(targetPort: configuration.port)
            defer { proxy.close() }
            configuration.host = "127.0.0.1"
            configuration.port = proxy.port
            // Long enough for a real statement on a server the whole suite is loading; the silent one
            // still fails after this and the grace, well inside the wait below.
            configuration.statementTimeout = .seconds(3)
            configuration.replyGrace = .milliseconds(500)
            let connection = try await PGConnection.connect(configuration, logger: PGTest.logger)
            #expect(try await connection.query("SELECT 1").count == 1, "the proxy forwards at first")
            proxy.stall()
            let result = try await PGTest.within(.seconds(30), "the statement on a silent connection to fail")
            {
                await outcome { try await connection.execute("SELECT 2") }
            }
            let error = try #require(throws: PGError.self) { try result.get() }
            #expect(error.code == .timeout)
            #expect(error.message.contains("did not answer"), "\(error)")
            let next = await #expect(throws: PGError.self) { try await connection.execute("SELECT 3") }
            #expect(next?.code == .connectionClosed, "the silent connection was given up")
        }

        /// A pool discards the connection that went silent and opens a new one for the next caller.
        @Test func aPoolReplacesAConnectionThatWentSilent() async throws {
            var configuration = try PGTest.configuration()
            let proxy = try StallingProxy(targetPort: configuration.port)
            defer { proxy.close() }
            configuration.host = "127.0.0.1"
            configuration.port = proxy.port
            // Long enough for a real statement on a server the whole suite is loading; the silent one
            // still fails after this and the grace, well inside the wait below.
            configuration.statementTimeout = .seconds(3)
            configuration.replyGrace = .milliseconds(500)
            let pool = PGPool(configuration: configuration, size: 1, logger: PGTest.logger)
            #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)
            proxy.stall()
            let result = try await PGTest.within(.seconds(30), "the pooled statement to fail") {
                await outcome { try await pool.withConnection { try await $0.query("SELECT 2").count } }
            }
            let error = try #require(throws: PGError.self) { try result.get() }
            #expect(error.code == .timeout)
            #expect(pool.statistics.open == 0, "the silent connection was discarded")
            #expect(try await pool.withConnection { try await $0.query("SELECT 3").count } == 1)
            await pool.close()
        }

        @Test func aServerThatAcceptsButNeverAnswersTimesOutTheConnect() async throws {
            var configuration = try PGTest.configuration()
            let proxy = try StallingProxy(targetPort: configuration.port)
            defer { proxy.close() }
            proxy.stallNewConnections()
            configuration.host = "127.0.0.1"
            configuration.port = proxy.port
            configuration.connectTimeout = .milliseconds(500)
            let silent = configuration
            let result = try await PGTest.within(.seconds(30), "the connect to give up") {
                await outcome { try await PGConnection.connect(silent, logger: PGTest.logger) }
            }
            let error = try #require(throws: PGError.self) { try result.get() }
            #expect(error.code == .timeout)
        }

        @Test func aCallerWaitingTooLongForAPoolConnectionGetsATimeout() async throws {
            var configuration = try PGTest.configuration()
            configuration.poolTimeout = .milliseconds(300)
            let pool = PGPool(configuration: configuration, size: 1, logger: PGTest.logger)
            let holding = AsyncStream.makeStream(of: Void.self)
            let release = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await pool.withConnection { _ in
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in holding.stream { break }
            let result = try await PGTest.within(.seconds(30), "the waiter to give up") {
                await outcome { try await pool.withConnection { _ in 1 } }
            }
            let error = try #require(throws: PGError.self) { try result.get() }
            #expect(error.code == .timeout)
            #expect(error.message.contains("no database connection became free"), "\(error)")
            #expect(pool.statistics.waiting == 0, "the waiter left the queue")
            release.continuation.yield()
            try await holder.value
            #expect(try await pool.withConnection { _ in 2 } == 2, "the pool still works")
            await pool.close()
        }
    }
}

/// `body`'s value or error, so a test can bound the wait with `PGTest.within` and then look at the error.
private func outcome<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
