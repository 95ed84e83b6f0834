import PGClient
import Testing

extension PGClientTests {
    /// Statements are prepared on a connection at their first use and executed by name after, so the
    /// server parses and plans each once per connection.
    @Suite struct PreparedStatements {
        static func prepared(_ connection: PGConnection, _ sql: String) async throws -> Int {
            try await connection.query(
                "SELECT count(*)::int8 FROM pg_prepared_statements WHERE statement = \(sql)"
            )
            .first?.decode((Int).self) ?? -1
        }

        @Test func aStatementIsPreparedOnceAndRunsByNameAfter() async throws {
            try await PGTest.withConnection { connection in
                let table = PGTest.uniqueName("prepared")
                try await connection.executeScript(
                    "CREATE TEMPORARY TABLE \(table) (id int PRIMARY KEY, name text)")
                for id in 1...3 {
                    try await connection.execute(
                        "INSERT INTO \(unescaped: table) (id, name) VALUES (\(id), \("n\(id)"))")
                }
                let sql = "INSERT INTO \(table) (id, name) VALUES ($1, $2)"
                #expect(try await Self.prepared(connection, sql) == 1)
                let names = try await connection.query("SELECT name FROM \(unescaped: table) ORDER BY id")
                    .map { try $0.decode((String).self) }
                #expect(names == ["n1", "n2", "n3"])
            }
        }

        @Test func aTableChangedUnderAPreparedStatementFailsItOnceThenItIsPreparedAfresh() async throws {
            try await PGTest.withConnection { connection in
                let table = PGTest.uniqueName("changed")
                try await connection.executeScript(
                    "CREATE TEMPORARY TABLE \(table) (id int); INSERT INTO \(table) VALUES (1)")
                let first = try await connection.query("SELECT * FROM \(unescaped: table)")
                #expect(first.first?.count == 1)
                try await connection.executeScript("ALTER TABLE \(table) ADD COLUMN extra text DEFAULT 'x'")
                let error = await #expect(throws: PGError.self) {
                    try await connection.query("SELECT * FROM \(unescaped: table)")
                }
                #expect(error?.sqlState == "0A000", "\(String(describing: error))")
                let again = try await connection.query("SELECT * FROM \(unescaped: table)")
                #expect(try again.first?.decode((Int, String).self).1 == "x")
            }
        }

        @Test func aStatementThatDoesNotPrepareFailsAsItWouldRunAndLeavesTheConnectionUsable() async throws {
            try await PGTest.withConnection { connection in
                let error = await #expect(throws: PGError.self) { try await connection.execute("SELEC 2") }
                #expect(error?.sqlState == "42601")
                let preparedCount = try await Self.prepared(connection, "SELEC 2")
                #expect(preparedCount == 0)
                let two = try await connection.query("SELECT 2").first?.decode((Int).self)
                #expect(two == 2)
            }
        }
    }
}
