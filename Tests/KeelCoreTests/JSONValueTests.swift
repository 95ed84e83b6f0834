import Foundation
import KeelCore
import Testing

@Suite("JSON values")
struct JSONValueTests {
    @Test("objects keep insertion order but compare and hash without it")
    func objectOrder() throws {
        let first = try JSONValue(parsing: #"{"b": 1, "a": [true, null]}"#)
        let second = try JSONValue(parsing: #"{"a": [true, null], "b": 1.0}"#)
        #expect(first.objectValue?.keys == ["b", "a"])
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(Set([first, second]).count == 1)
        #expect(first.jsonString() == #"{"b":1,"a":[true,null]}"#)
    }

    @Test("strings compare by code point, not by canonical equivalence")
    func stringEquality() {
        let composed: JSONValue = "\u{e4}"
        let decomposed: JSONValue = "a\u{308}"
        #expect(composed != decomposed)
        var object = JSONObject()
        object["\u{e4}"] = 1
        object["a\u{308}"] = 2
        #expect(object.count == 2)
        #expect(object["a\u{308}"] == 2)
    }

    @Test("booleans are never numbers")
    func booleansAreNotNumbers() {
        #expect(JSONValue.bool(true) != 1)
        #expect(JSONValue.bool(false) != 0)
        #expect(([0, false] as JSONValue).arrayValue?.count == 2)
    }

    @Test("literals build the expected cases")
    func literals() {
        let value: JSONValue = [
            "name": "keel", "count": 3, "ratio": 0.5, "on": true, "none": nil, "list": [1, "a"],
        ]
        #expect(value["name"] == .string("keel"))
        #expect(value["count"]?.int64Value == 3)
        #expect(value["ratio"]?.numberValue?.description == "0.5")
        #expect(value["on"]?.boolValue == true)
        #expect(value["none"]?.isNull == true)
        #expect(value["list"]?[1] == "a")
        #expect(value["missing"] == nil)
        #expect(value.typeName == "object")
    }

    @Test("object editing keeps order and the index consistent")
    func objectEditing() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        #expect(object.removeValue(forKey: "b") == 2)
        object["d"] = 4
        object["a"] = 10
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["c"] == 3)
        #expect(object["d"] == 4)
        object["c"] = nil
        #expect(object.keys == ["a", "d"])
        #expect(object["d"] == 4)
    }

    @Test("Codable round trip through Foundation's JSON coders")
    func codable() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true], "b": ["c": -7]]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(decoded == value)
        struct Envelope: Codable, Equatable {
            let payload: JSONValue
        }
        let envelope = Envelope(payload: value)
        #expect(try JSONDecoder().decode(Envelope.self, from: JSONEncoder().encode(envelope)) == envelope)
    }

    @Test("compact text parses back to an equal value")
    func compactRoundTrip() throws {
        let text = #"{"z":[1,2,{"y":"\u0001\n\"é😀"}],"a":-1.25e-10,"m":1e+30}"#
        let value = try JSONValue(parsing: text)
        #expect(try JSONValue(parsing: value.jsonString()) == value)
        #expect(value.jsonString() == #"{"z":[1,2,{"y":"\u0001\n\"é😀"}],"a":-1.25e-10,"m":1e+30}"#)
    }
}

@Suite("JSON numbers")
struct JSONNumberTests {
    @Test(
        "canonical spelling",
        arguments: [
            ("0", "0"), ("-0", "0"), ("-0.0e5", "0"), ("1.0", "1"), ("1.500", "1.5"), ("100", "100"),
            ("1E2", "100"), ("1e+2", "100"), ("0.000001", "0.000001"), ("0.0000001", "1e-7"),
            ("123e-5", "0.00123"), ("1e20", "100000000000000000000"), ("1e21", "1e+21"),
            ("12.34e30", "1.234e+31"), ("1.5e21", "1500000000000000000000"), ("0.5e-6", "5e-7"),
            ("-1234.5e-2", "-12.345"), ("-5e-10", "-5e-10"), ("000", ""),
            ("9007199254740993", "9007199254740993"),
        ])
    func canonicalSpelling(input: String, expected: String) {
        if expected.isEmpty {
            #expect(JSONNumber(jsonText: input) == nil)
        } else {
            #expect(JSONNumber(jsonText: input)?.description == expected)
        }
    }

    @Test("exact comparison")
    func comparison() throws {
        let numbers = try [
            "-10", "-1.5", "-1", "0", "0.001", "0.5", "1", "1.0000000000000000001", "2", "1e30",
        ]
        .map { try #require(JSONNumber(jsonText: $0)) }
        #expect(numbers == numbers.shuffled().sorted())
        let above = try #require(JSONNumber(jsonText: "9007199254740993"))
        let below = try #require(JSONNumber(jsonText: "9007199254740992"))
        #expect(above > below)
    }

    @Test("conversions")
    func conversions() {
        #expect(JSONNumber(Int64.max).int64Value == Int64.max)
        #expect(JSONNumber(Int64.min).int64Value == Int64.min)
        #expect(JSONNumber(UInt64.max).int64Value == nil)
        #expect(JSONNumber(UInt64.max).description == "18446744073709551615")
        #expect(JSONNumber(0.1)?.description == "0.1")
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(jsonText: "2.5")?.int64Value == nil)
        #expect(JSONNumber(jsonText: "2.5")?.doubleValue == 2.5)
        #expect(JSONNumber(jsonText: "3.0")?.isInteger == true)
    }
}

@Suite("Canonical form")
struct CanonicalFormTests {
    @Test("sorted keys, no whitespace, normalised numbers and minimal escapes")
    func canonicalText() throws {
        let value = try JSONValue(
            parsing: """
                {
                  "b": [1.0, 2.50, -0, 1E3, 1e-7],
                  "a": {"z": null, "é": "tab\\there \\u00e9 \\u2028 \\u001f", "A": true},
                  "": false
                }
                """)
        #expect(
            value.jsonString(.canonical)
                == #"{"":false,"a":{"A":true,"z":null,"é":"tab\there é \#u{2028} \u001f"},"b":[1,2.5,0,1000,1e-7]}"#
        )
    }

    @Test("equal values give identical bytes whatever their spelling and order")
    func stableBytes() throws {
        let first = try JSONValue(parsing: #"{"x": [1, {"q": 1.0, "p": "\u0041"}], "y": 10e1}"#)
        let second = try JSONValue(parsing: #" { "y" : 100 , "x" : [ 1.00 , { "p" : "A" , "q" : 1 } ] } "#)
        #expect(first.jsonBytes(.canonical) == second.jsonBytes(.canonical))
        #expect(first.jsonBytes(.compact) != second.jsonBytes(.compact))
    }

    @Test("keys sort by UTF-16 code units, as RFC 8785 does")
    func utf16Order() {
        // U+E000 sorts before U+1F600 in UTF-16 (0xE000 < 0xD83D is false) — check both directions.
        let value: JSONValue = ["\u{1F600}": 1, "\u{E000}": 2, "a": 3]
        #expect(value.jsonString(.canonical) == "{\"a\":3,\"\u{1F600}\":1,\"\u{E000}\":2}")
    }
}

@Suite("JSON Pointer")
struct JSONPointerTests {
    /// The example document of RFC 6901 section 5.
    let document: JSONValue = [
        "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7,
        "m~n": 8,
    ]

    @Test(
        "RFC 6901 examples",
        arguments: [
            ("", nil), ("/foo", nil), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2), ("/e^f", 3),
            ("/g|h", 4), ("/i\\j", 5), ("/k\"l", 6), ("/ ", 7), ("/m~0n", 8),
        ] as [(String, JSONValue?)])
    func rfcExamples(pointer: String, expected: JSONValue?) throws {
        let parsed = try JSONPointer(parsing: pointer)
        #expect(parsed.description == pointer)
        let found = try #require(document[pointer: parsed])
        switch pointer {
        case "": #expect(found == document)
        case "/foo": #expect(found == ["bar", "baz"])
        default: #expect(found == expected)
        }
    }

    @Test("misses and malformed pointers")
    func misses() throws {
        #expect(document[pointer: try JSONPointer(parsing: "/foo/2")] == nil)
        #expect(document[pointer: try JSONPointer(parsing: "/foo/-")] == nil)
        #expect(document[pointer: try JSONPointer(parsing: "/foo/01")] == nil)
        #expect(document[pointer: try JSONPointer(parsing: "/nope")] == nil)
        #expect(document[pointer: try JSONPointer(parsing: "/foo/0/x")] == nil)
        #expect(throws: JSONPointerError(pointer: "foo", reason: .missingSlash)) {
            try JSONPointer(parsing: "foo")
        }
        #expect(throws: JSONPointerError(pointer: "/a~2", reason: .invalidEscape)) {
            try JSONPointer(parsing: "/a~2")
        }
        #expect(throws: JSONPointerError(pointer: "/a~", reason: .invalidEscape)) {
            try JSONPointer(parsing: "/a~")
        }
    }

    @Test("escape and unescape are inverse")
    func escaping() {
        #expect(JSONPointer.escape("a/b~c") == "a~1b~0c")
        #expect(JSONPointer.unescape("a~1b~0c") == "a/b~c")
        #expect(JSONPointer.unescape("~01") == "~1")
        #expect(JSONPointer(tokens: ["a/b", "~", "0"]).description == "/a~1b/~0/0")
        #expect(JSONPointer.root.appending("x").appending(index: 3).description == "/x/3")
    }
}
