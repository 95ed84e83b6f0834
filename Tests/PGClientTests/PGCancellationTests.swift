import Foundation
import PGClient
import KeelTestSupport
import Testing

extension PGClientTests {
    @Suite struct Cancellation {
        @Test func cancellingTheTaskCancelsALongQuery() async throws {
            try await PGTest.withConnection { connection in
                let marker = PGTest.uniqueName("cancel")
                let query = Task {
                    try await connection.execute("SELECT pg_sleep(30) /* \(unescaped: marker) */")
                }
                try await PGTest.waitUntilRunning(marker)
                query.cancel()
                let result = try await PGTest.within(.seconds(20), "the cancelled query to end") {
                    await query.result
                }
                let error = try #require(throws: PGError.self) { try result.get() }
                #expect(error.code == .cancelled)
                // query_canceled: the server stopped the statement; a pg_sleep that ran to its end raises
                // nothing, and the 30 s statement_timeout would end it only after pg_sleep was done.
                #expect(error.sqlState == "57014", "ended by the cancel, not after pg_sleep's 30 s")
                let after = try await connection.query("SELECT \(7) + 1")
                #expect(try after[0].decode((Int).self) == 8, "the connection stays usable")
            }
        }

        /// Inside a pool body the statement runs inline on the connection's thread; cancelling still
        /// reaches the server, and the connection goes back to the pool usable.
        @Test func cancellingAPoolBodyCancelsItsQuery() async throws {
            try await PGTest.withPool(size: 1) { pool in
                let marker = PGTest.uniqueName("cancel")
                let body = Task {
                    try await pool.withConnection {
                        try await $0.execute("SELECT pg_sleep(30) /* \(unescaped: marker) */")
                    }
                }
                try await PGTest.waitUntilRunning(marker)
                body.cancel()
                let outcome = try await PGTest.within(.seconds(20), "the cancelled body to end") {
                    await body.result
                }
                let error = try #require(throws: PGError.self) { try outcome.get() }
                #expect(error.code == .cancelled)
                #expect(error.sqlState == "57014", "the server cancelled the running statement")
                #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)
                #expect(pool.statistics.open == 1, "the connection was kept, not replaced")
            }
        }

        @Test func alreadyCancelledTaskDoesNotRunTheStatement() async throws {
            try await PGTest.withConnection { connection in
                let table = PGTest.uniqueName("never")
                let attempt = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    try await connection.executeScript("CREATE TABLE \(table) (x int)")
                }
                let error = try await #require(throws: PGError.self) { try await attempt.value }
                #expect(error.code == .cancelled)
                let exists = try await connection.query("SELECT to_regclass(\(table)) IS NOT NULL")
                #expect(try exists[0].decode((Bool).self) == false)
            }
        }

        @Test func waitingForAPoolConnectionCanBeCancelled() async throws {
            try await PGTest.withPool(size: 1) { pool in
                let holding = AsyncStream.makeStream(of: Void.self)
                let release = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await pool.withConnection { _ in
                        holding.continuation.yield()
                        for await _ in release.stream { break }
                    }
                }
                for await _ in holding.stream { break }
                let waiter = Task { try await pool.withConnection { _ in 1 } }
                try await waitUntil("the waiter queues", within: .seconds(10)) {
                    pool.statistics.waiting == 1
                }
                waiter.cancel()
                let outcome = try await PGTest.within(.seconds(20), "the waiter to give up") {
                    await waiter.result
                }
                let error = try #require(throws: PGError.self) { try outcome.get() }
                #expect(error.code == .cancelled)
                release.continuation.yield()
                try await holder.value
                #expect(pool.statistics.waiting == 0, "the cancelled waiter left the queue")
                #expect(try await pool.withConnection { _ in 2 } == 2, "the pool still works")
            }
        }

        /// A server that accepts TCP connections but never answers: connecting must time out.
        @Test func connectTimesOut() async throws {
            let socket = try SilentServer()
            defer { socket.close() }
            var configuration = try PGTest.configuration()
            configuration.port = socket.port
            configuration.connectTimeout = .milliseconds(500)
            let started = ContinuousClock.now
            let error = await #expect(throws: PGError.self) {
                try await PGConnection.connect(configuration, logger: PGTest.logger)
            }
            #expect(error?.code == .timeout)
            #expect(ContinuousClock.now - started < .seconds(20), "the 500 ms timeout ended it, not the OS")
        }
    }
}
