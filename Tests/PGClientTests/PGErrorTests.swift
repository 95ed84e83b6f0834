import PGClient
import Testing

extension PGClientTests {
    @Suite struct Errors {
        /// The server's detail quotes the duplicate key; neither it nor the bound value may reach the
        /// description, while SQLSTATE, message and SQL text must.
        @Test func descriptionHasSQLStateMessageAndQueryButNoValues() async throws {
            try await PGTest.withConnection { connection in
                let table = PGTest.uniqueName("errors")
                let secret = "sk_live_Zx9SECRETvalue_4242"
                try await connection.executeScript(
                    "CREATE TEMPORARY TABLE \(table) (token text PRIMARY KEY)")
                try await connection.execute("INSERT INTO \(unescaped: table) (token) VALUES (\(secret))")
                let error = await #expect(throws: PGError.self) {
                    try await connection.execute("INSERT INTO \(unescaped: table) (token) VALUES (\(secret))")
                }
                let failure = try #require(error)
                #expect(failure.code == .server)
                #expect(failure.sqlState == "23505")
                #expect(failure.message.contains("duplicate key value violates unique constraint"))
                #expect(failure.detail?.contains(secret) == true, "the detail is still there for debugging")
                #expect(failure.query == "INSERT INTO \(table) (token) VALUES ($1)")
                let description = String(describing: failure)
                #expect(description.contains("23505"))
                #expect(description.contains("duplicate key value violates unique constraint"))
                #expect(description.contains("INSERT INTO \(table) (token) VALUES ($1)"))
                #expect(!description.contains(secret))
                #expect(!"\(failure)".contains(secret))
            }
        }

        @Test func syntaxErrorCarriesSQLStateAndQuery() async throws {
            try await PGTest.withConnection { connection in
                let error = await #expect(throws: PGError.self) { try await connection.execute("SELEC 1") }
                #expect(error?.sqlState == "42601")
                #expect(error?.code == .server)
                #expect(error?.description.contains("SELEC 1") == true)
            }
        }

        @Test func wrongPasswordFailsToConnectWithoutEchoingIt() async throws {
            var configuration = try PGTest.configuration()
            configuration.password = "Wr0ngPassw0rd-do-not-log"
            let error = await #expect(throws: PGError.self) {
                try await PGConnection.connect(configuration, logger: PGTest.logger)
            }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("password authentication failed") == true)
            #expect(error?.description.contains("Wr0ngPassw0rd") == false)
        }

        @Test func closedConnectionFailsWithConnectionClosed() async throws {
            let connection = try await PGConnection.connect(
                try PGTest.configuration(), logger: PGTest.logger)
            await connection.close()
            let error = await #expect(throws: PGError.self) { try await connection.query("SELECT 1") }
            #expect(error?.code == .connectionClosed)
        }
    }
}
