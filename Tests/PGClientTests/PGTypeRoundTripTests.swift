import Foundation
import PGClient
import Testing

extension PGClientTests {
    /// Every supported Swift type goes to the server as a bound parameter and comes back unchanged,
    /// and the server sees the value it should (checked with SQL on the server side).
    @Suite struct TypeRoundTrips {
        struct Settings: Codable, Equatable {
            var name: String
            var retries: Int
            var tags: [String]
            var nested: [String: Double]
        }

        /// Selects `value` back as a bound parameter.
        func echo<T: PGEncodable & PGDecodable>(_ value: T, on connection: PGConnection) async throws
            -> T
        {
            let rows = try await connection.query("SELECT \(value) AS v")
            return try #require(rows.first).decode(T.self, column: "v")
        }

        @Test func integers() async throws {
            try await PGTest.withConnection { connection in
                for value in [0, 1, -1, 42, -987_654_321, Int.max, Int.min] {
                    #expect(try await echo(value, on: connection) == value)
                }
                for value: Int64 in [.max, .min, 0, -1] {
                    #expect(try await echo(value, on: connection) == value)
                }
                for value: Int32 in [.max, .min, -7] {
                    #expect(try await echo(value, on: connection) == value)
                }
                for value: Int16 in [.max, .min, -3] {
                    #expect(try await echo(value, on: connection) == value)
                }
                let row = try #require(
                    try await connection.query(
                        "SELECT \(Int64.min) = '-9223372036854775808'::int8, \(Int32(-7)) + 1, 5::int2"
                    ).first)
                let (equal, sum, small) = try row.decode((Bool, Int32, Int).self)
                #expect(equal)
                #expect(sum == -6)
                #expect(small == 5, "int2 widens to Int")
            }
        }

        @Test func floatingPointAndBool() async throws {
            try await PGTest.withConnection { connection in
                for value in [0.0, -0.5, Double.pi, 1e300, -.infinity, .infinity] {
                    #expect(try await echo(value, on: connection) == value)
                }
                #expect(try await echo(Double.nan, on: connection).isNaN)
                for value: Float in [1.5, -3.25, .greatestFiniteMagnitude] {
                    #expect(try await echo(value, on: connection) == value)
                }
                #expect(try await echo(true, on: connection) == true)
                #expect(try await echo(false, on: connection) == false)
                let row = try #require(
                    try await connection.query("SELECT \(2.5) * 2 = 5.0, NOT \(true)").first)
                let (equal, negated) = try row.decode((Bool, Bool).self)
                #expect(equal)
                #expect(negated == false)
            }
        }

        @Test func text() async throws {
            try await PGTest.withConnection { connection in
                let samples = [
                    "", "plain", "héllo wörld 🐘 日本語 ✓", "it's \"quoted\" \\ back\\slash",
                    "'); DROP TABLE users; --", String(repeating: "long ", count: 5_000),
                ]
                for value in samples {
                    #expect(try await echo(value, on: connection) == value)
                }
                let row = try #require(
                    try await connection.query("SELECT char_length(\("🐘日本")), octet_length(\("🐘日本"))").first)
                let (characters, octets) = try row.decode((Int, Int).self)
                #expect(characters == 3)
                #expect(octets == 10)
                let name = try #require(try await connection.query("SELECT current_user::name").first)
                #expect(try name.decode((String).self) == "keel")
            }
        }

        @Test func uuid() async throws {
            try await PGTest.withConnection { connection in
                let id = UUID()
                #expect(try await echo(id, on: connection) == id)
                let row = try #require(try await connection.query("SELECT \(id)::text").first)
                #expect(try row.decode((String).self) == id.uuidString.lowercased())
                let fixed = try #require(UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
                let parsed = try #require(
                    try await connection.query("SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid").first)
                #expect(try parsed.decode((UUID).self) == fixed)
            }
        }

        @Test func timestamptzWithFractionalSeconds() async throws {
            try await PGTest.withConnection { connection in
                // 2023-11-14 22:13:20.123456 UTC
                let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
                let back = try await echo(date, on: connection)
                #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
                let row = try #require(
                    try await connection.query(
                        """
                        SELECT \(date) = '2023-11-14 22:13:20.123456+00'::timestamptz,
                               '1999-12-31 23:59:59.5+00'::timestamptz,
                               'infinity'::timestamptz,
                               '2023-11-14 22:13:20.25'::timestamp
                        """
                    ).first)
                let (exact, halfSecond, infinity, withoutZone) = try row.decode((Bool, Date, Date, Date).self)
                #expect(exact, "the server sees the exact microsecond")
                #expect(halfSecond.timeIntervalSince1970 == 946_684_799.5)
                #expect(infinity == .distantFuture)
                #expect(withoutZone.timeIntervalSince1970 == 1_700_000_000.25)
                let beforeEpoch = Date(timeIntervalSince1970: 946_684_799.25)
                #expect(try await echo(beforeEpoch, on: connection) == beforeEpoch)
            }
        }

        @Test func byteaWithZeroBytes() async throws {
            try await PGTest.withConnection { connection in
                let bytes: [UInt8] = [0x00, 0x01, 0x00, 0xFF, 0x7F, 0x00]
                #expect(try await echo(bytes, on: connection) == bytes)
                #expect(try await echo([UInt8](), on: connection) == [])
                let data = Data((0...255).map { UInt8($0) })
                #expect(try await echo(data, on: connection) == data)
                let row = try #require(
                    try await connection.query(
                        "SELECT octet_length(\(bytes)), \(bytes) = '\\x000100ff7f00'::bytea, \([UInt8]()) IS NULL"
                    ).first)
                let (length, equal, emptyIsNull) = try row.decode((Int, Bool, Bool).self)
                #expect(length == 6)
                #expect(equal)
                #expect(emptyIsNull == false, "empty bytea is not NULL")
            }
        }

        @Test func jsonb() async throws {
            try await PGTest.withConnection { connection in
                let settings = Settings(
                    name: "déploiement ✓", retries: 3, tags: ["a", "b"], nested: ["x": 1.5, "y": -2])
                let json = try PGJSON(encoding: settings)
                let back = try await echo(json, on: connection)
                #expect(try back.decode(Settings.self) == settings)
                let row = try #require(
                    try await connection.query(
                        "SELECT \(json)->>'name', (\(json)->>'retries')::int, jsonb_typeof(\(json)->'tags'), '{\"k\": [1, null]}'::json"
                    ).first)
                let (name, retries, tagsType, literal) = try row.decode((String, Int, String, PGJSON).self)
                #expect(name == "déploiement ✓")
                #expect(retries == 3)
                #expect(tagsType == "array")
                #expect(literal.text == "{\"k\": [1, null]}")
                let invalid = PGJSON("{not json")
                await #expect(throws: PGError.self) { try await connection.query("SELECT \(invalid)") }
            }
        }

        @Test func arrays() async throws {
            try await PGTest.withConnection { connection in
                let texts = ["a", "", "ünï ✓", "with,comma", "{brace}", "\"quote\""]
                #expect(try await echo(texts, on: connection) == texts)
                #expect(try await echo([String](), on: connection) == [])
                #expect(try await echo([Int](), on: connection) == [])
                #expect(
                    try await echo([1, -2, Int.max, Int.min], on: connection) == [1, -2, Int.max, Int.min])
                #expect(try await echo([Int32(1), -2], on: connection) == [1, -2])
                #expect(try await echo([Int16(7)], on: connection) == [7])
                #expect(try await echo([true, false], on: connection) == [true, false])
                #expect(try await echo([1.5, -0.25], on: connection) == [1.5, -0.25])
                let ids = [UUID(), UUID()]
                #expect(try await echo(ids, on: connection) == ids)
                let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_700_000_000.5)]
                #expect(try await echo(dates, on: connection) == dates)
                let withNulls: [String?] = ["x", nil, "z"]
                #expect(try await echo(withNulls, on: connection) == withNulls)
                let blobs = [Data([0, 1]), Data()]
                #expect(try await echo(blobs, on: connection) == blobs)
                let row = try #require(
                    try await connection.query(
                        """
                        SELECT cardinality(\(texts)), \("ünï ✓") = ANY(\(texts)), array_position(\(ids), \(ids[1])),
                               cardinality(\([String]())), ARRAY[1, 2, 3]::int4[], '{}'::text[]
                        """
                    ).first)
                let (count, contains, position, emptyCount, ints, empty) = try row.decode(
                    (Int, Bool, Int, Int, [Int], [String]).self)
                #expect(count == 6)
                #expect(contains)
                #expect(position == 2)
                #expect(emptyCount == 0)
                #expect(ints == [1, 2, 3], "int4[] widens to [Int]")
                #expect(empty == [])
            }
        }

        @Test func nullsAsOptionals() async throws {
            try await PGTest.withConnection { connection in
                let noText: String? = nil
                let noInt: Int? = nil
                let noID: UUID? = nil
                let noDate: Date? = nil
                let noJSON: PGJSON? = nil
                let noBytes: [UInt8]? = nil
                let noArray: [String]? = nil
                #expect(try await echo(noText, on: connection) == nil)
                #expect(try await echo(noInt, on: connection) == nil)
                #expect(try await echo(noID, on: connection) == nil)
                #expect(try await echo(noDate, on: connection) == nil)
                #expect(try await echo(noJSON, on: connection) == nil)
                #expect(try await echo(noBytes, on: connection) == nil)
                #expect(try await echo(noArray, on: connection) == nil)
                let some: Int? = 5
                #expect(try await echo(some, on: connection) == 5)
                let row = try #require(
                    try await connection.query("SELECT \(noText) IS NULL, \(noInt) IS NULL, NULL::int8").first
                )
                let (textIsNull, intIsNull, none) = try row.decode((Bool, Bool, Int?).self)
                #expect(textIsNull)
                #expect(intIsNull)
                #expect(none == nil)
                // The positional decode refuses NULL for a column decoded as non-optional.
                #expect {
                    try row.decode(Int.self, at: 2)
                } throws: { error in
                    (error as? PGError)?.code == .decoding
                }
            }
        }

        @Test func tableColumnsRoundTrip() async throws {
            try await PGTest.withConnection { connection in
                let table = PGTest.uniqueName("types")
                try await connection.executeScript(
                    """
                    CREATE TEMPORARY TABLE \(table) (
                        id uuid PRIMARY KEY, name text NOT NULL, count int8, small int2, medium int4,
                        ratio float8, enabled bool, created timestamptz, payload bytea, settings jsonb,
                        tags text[], note varchar(20)
                    )
                    """)
                let id = UUID()
                let created = Date(timeIntervalSince1970: 1_234_567_890.654321)
                let settings = try PGJSON(encoding: Settings(name: "n", retries: 1, tags: [], nested: [:]))
                let note: String? = nil
                let inserted = try await connection.execute(
                    """
                    INSERT INTO \(unescaped: table)
                    VALUES (\(id), \("row ✓"), \(Int64.min), \(Int16(-2)), \(Int32.max), \(0.125), \(true),
                            \(created), \([UInt8]([0, 0, 9])), \(settings), \(["x", "y"]), \(note))
                    """)
                #expect(inserted.affectedRows == 1)
                #expect(inserted.commandTag == "INSERT 0 1")
                let rows = try await connection.query("SELECT * FROM \(unescaped: table) WHERE id = \(id)")
                let row = try #require(rows.first)
                #expect(rows.count == 1)
                #expect(try row.decode(UUID.self, column: "id") == id)
                #expect(try row.decode(String.self, column: "name") == "row ✓")
                #expect(try row.decode(Int64.self, column: "count") == .min)
                #expect(try row.decode(Int16.self, column: "small") == -2)
                #expect(try row.decode(Int32.self, column: "medium") == .max)
                #expect(try row.decode(Double.self, column: "ratio") == 0.125)
                #expect(try row.decode(Bool.self, column: "enabled"))
                #expect(
                    abs(try row.decode(Date.self, column: "created").timeIntervalSince(created)) < 0.000_001)
                #expect(try row.decode([UInt8].self, column: "payload") == [0, 0, 9])
                #expect(try row.decode(PGJSON.self, column: "settings").decode(Settings.self).name == "n")
                #expect(try row.decode([String].self, column: "tags") == ["x", "y"])
                #expect(try row.decode(String?.self, column: "note") == nil)
                #expect(row.columnNames.count == 12)
            }
        }

        @Test func decodingMismatchesThrow() async throws {
            try await PGTest.withConnection { connection in
                let row = try #require(
                    try await connection.query("SELECT 'text'::text AS t, 70000::int4 AS i").first)
                #expect(throws: PGError.self) { try row.decode(Int.self, column: "t") }
                #expect(throws: PGError.self) { try row.decode(Int16.self, column: "i") }
                #expect(throws: PGError.self) { try row.decode(String.self, column: "missing") }
                #expect(throws: PGError.self) { try row.decode(String.self, at: 9) }
                #expect(try row.decode(Int32.self, column: "i") == 70_000)
                // A tuple decodes the whole row: one naming fewer or more columns than the row has is refused.
                #expect(throws: PGError.self) { try row.decode((String).self) }
                #expect(throws: PGError.self) { try row.decode((String, Int32, Int).self) }
                let (text, number) = try row.decode((String, Int32).self)
                #expect(text == "text" && number == 70_000)
            }
        }
    }
}
