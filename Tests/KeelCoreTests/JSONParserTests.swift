import KeelCore
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses every kind of value")
    func parsesValues() throws {
        let value = try JSONValue(
            parsing: #" { "a" : [1, -2.5, 3e2, true, false, null, "x\n\"y\"\\"], "b": {} , "c": [] } "#)
        #expect(
            value
                == [
                    "a": [1, -2.5, 300, true, false, nil, "x\n\"y\"\\"],
                    "b": [:],
                    "c": [],
                ])
        #expect(value.objectValue?.keys == ["a", "b", "c"])
    }

    @Test("keeps integers beyond Int64 and 2^53 exact")
    func bigIntegers() throws {
        let text =
            "[123456789012345678901234567890,9007199254740993,-9223372036854775808,18446744073709551616]"
        let value = try JSONValue(parsing: text)
        #expect(value.jsonString() == text)
        #expect(value.jsonString(.canonical) == text)
        #expect(value[1]?.int64Value == 9_007_199_254_740_993)
        #expect(value[2]?.int64Value == Int64.min)
        #expect(value[3]?.int64Value == nil)
        #expect(value[0] != (try JSONValue(parsing: "123456789012345678901234567891")))
    }

    @Test("numbers compare mathematically")
    func numberEquality() throws {
        #expect(try JSONValue(parsing: "1.0") == JSONValue(parsing: "1"))
        #expect(try JSONValue(parsing: "10e-1") == 1)
        #expect(try JSONValue(parsing: "-0") == 0)
        #expect(try JSONValue(parsing: "0.1") == 0.1)
        #expect(try JSONValue(parsing: "1") != JSONValue(parsing: "true"))
    }

    @Test("decodes escapes, including surrogate pairs, to the right scalars")
    func unicodeEscapes() throws {
        #expect(try JSONValue(parsing: #""\u00e9\u0041\u20AC""#) == "éA€")
        #expect(try JSONValue(parsing: #""\ud83d\ude00""#) == "😀")
        #expect(try JSONValue(parsing: #""\u0000""#).stringValue?.unicodeScalars.first?.value == 0)
        #expect(try JSONValue(parsing: #""\/\b\f\r\t""#) == "/\u{8}\u{C}\r\t")
        #expect(try JSONValue(parsing: "\"raw é 😀\"") == "raw é 😀")
    }

    @Test(
        "reports line, column and what was expected",
        arguments: [
            ("{\n  \"a\": 1,\n  \"b\" 2\n}", 3, 7, "expected ':' after a member name, found '2'"),
            ("[1, 2,]", 1, 7, "expected a JSON value, found ']'"),
            ("{\"a\": 1,}", 1, 9, "expected a member name in double quotes, found '}'"),
            ("[1 2]", 1, 4, "expected ',' or ']' after an array element, found '2'"),
            ("", 1, 1, "expected a JSON value, found the end of input"),
            ("[1]  x", 1, 6, "expected the end of input after the JSON value, found 'x'"),
            ("tru", 1, 4, "expected 'true', found the end of input"),
            ("01", 1, 1, "numbers must not have leading zeros"),
            ("1.", 1, 3, "expected a digit after the decimal point"),
            ("-", 1, 2, "expected a digit in number"),
            ("1e", 1, 3, "expected a digit in exponent"),
            ("\"abc", 1, 1, "unterminated string"),
            ("\"a\tb\"", 1, 3, "control character U+0009 must be escaped in a string"),
            (#""\x""#, 1, 3, #"expected an escape character (", \, /, b, f, n, r, t or u), found 'x'"#),
            (#""\u12G4""#, 1, 6, "expected 4 hexadecimal digits after \\u, found 'G'"),
            (#""\ud83d""#, 1, 2, "high surrogate escape must be followed by a low surrogate escape"),
            (#""\ude00""#, 1, 2, "low surrogate escape without a high surrogate"),
            ("{\"a\": 1, \"a\": 2}", 1, 10, #"duplicate member name "a""#),
            ("// comment\n1", 1, 1, "expected a JSON value, found '/'"),
            ("[\n\"é\", é]", 2, 6, "expected a JSON value, found byte 0xC3"),
        ])
    func syntaxErrors(text: String, line: Int, column: Int, message: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.line == line && error.column == column && error.message == message
        }
    }

    @Test("error description names line and column")
    func errorDescription() {
        do {
            _ = try JSONValue(parsing: "{\n\"a\" 1}")
            Issue.record("parsed invalid JSON")
        } catch {
            #expect(
                error.description
                    == "invalid JSON at line 2, column 5: expected ':' after a member name, found '1'")
        }
    }

    @Test("rejects invalid UTF-8 and a byte order mark")
    func byteLevelErrors() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0xEF, 0xBB, 0xBF, 0x31]) }
        #expect((try? JSONValue(parsing: Array("\"é\"".utf8))) == "é")
    }

    @Test("enforces the nesting limit")
    func nestingLimit() throws {
        let limit = JSONValue.defaultMaximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try JSONValue(parsing: deepest) }
        let tooDeep = "[" + deepest + "]"
        do {
            _ = try JSONValue(parsing: tooDeep)
            Issue.record("parsed nesting beyond the limit")
        } catch {
            #expect(error.message == "arrays and objects are nested deeper than the limit of \(limit)")
            #expect(error.column == limit + 1)
        }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "[[[1]]]", maximumDepth: 2) }
        // Far beyond the limit must fail cleanly, not overflow the stack.
        #expect(throws: JSONParseError.self) {
            try JSONValue(parsing: String(repeating: "{\"a\":", count: 100_000))
        }
    }

    @Test("rejects exponents too large to be meaningful")
    func hugeExponent() throws {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "1e9999999999") }
        #expect(try JSONValue(parsing: "1e400").numberValue?.doubleValue == .infinity)
    }
}
