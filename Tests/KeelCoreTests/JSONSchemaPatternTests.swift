import KeelCore
import Testing

/// The `pattern` dialect: ECMA-262 with the `u` flag, matched without backtracking.
@Suite("JSON Schema patterns")
struct JSONSchemaPatternTests {
    static func matches(_ pattern: String, _ string: String) throws -> Bool {
        try JSONSchema(["pattern": .string(pattern)]).isValid(.string(string))
    }

    @Test(
        "ECMA-262 constructs match as JavaScript matches them",
        arguments: [
            // (pattern, string, matches)
            ("abc", "xxabcxx", true), ("^abc$", "xabc", false), ("^$", "", true), ("a|", "zzz", true),
            ("^a{3}$", "aaa", true), ("^a{3}$", "aaaa", false), ("^a{2,}$", "a", false),
            ("^a{2,}$", "aaaaa", true),
            ("^a{1,2}b$", "aab", true), ("^a{1,2}b$", "aaab", false), ("^a{0}b$", "b", true),
            ("^a+?b*?c??$", "aac", true), ("^[^a-c]+$", "xyz", true), ("^[^a-c]+$", "xbz", false),
            ("^[a\\-z]+$", "-az", true), ("^[\\d\\s]+$", "1 2\t3", true), ("^[\\b]$", "\u{08}", true),
            ("^\\w+$", "abc_09", true), ("^\\w+$", "é", false), ("^\\d$", "٣", false), ("^\\D$", "٣", true),
            ("^\\s$", "\u{2003}", true), ("^\\s$", "\u{FEFF}", true), ("^\\S+$", "a\u{A0}", false),
            ("^.$", "\n", false), ("^.$", "\u{2028}", false), ("^.$", "😀", true), ("^..$", "é", false),
            ("^\\u00e9$", "é", true), ("^\\u{1F600}$", "😀", true), ("^\\uD83D\\uDE00$", "😀", true),
            ("^\\x41\\cJ\\0$", "A\n\u{0}", true), ("^\\/\\.\\*$", "/.*", true),
            ("\\bkeel\\b", "the keel flow", true), ("\\bkeel\\b", "keelson", false),
            ("\\b\\d+\\b", "1", true), ("\\Bb\\B", "1b1", true), ("\\Bee\\B", "keel", true),
            ("^\\p{Letter}+$", "ŝibboleth", true), ("^\\p{L}+$", "ab1", false), ("^\\P{L}+$", "123", true),
            ("^\\p{Lu}\\p{Ll}+$", "Keel", true), ("^\\p{gc=Nd}+$", "٣4", true),
            ("^\\p{General_Category=Decimal_Number}$", "x", false), ("^[\\p{Lu}\\d]+$", "K9", true),
            ("^\\p{White_Space}$", "\u{85}", true), ("^\\p{ASCII}+$", "keel", true),
            ("^\\p{Any}$", "\u{10FFFF}", true),
            ("^(?=.*\\d)(?=.*[a-z]).{6,}$", "abc123", true), ("^(?=.*\\d)(?=.*[a-z]).{6,}$", "abcdef", false),
            ("^(?!admin$)[a-z]+$", "admin", false), ("^(?!admin$)[a-z]+$", "administrator", true),
            ("(?<=\\$)\\d+", "cost $42", true), ("(?<=\\$)\\d+", "cost 42", false),
            ("(?<!-)\\b\\d+$", "x -42", false), ("(?<!-)\\b\\d+$", "x 42", true),
            ("(?<=^a(?=b)).", "ab", true), ("(?<=(?:ab){2})c", "ababc", true),
            ("(?<=(?:ab){2})c", "abc", false),
            ("^(?<year>\\d{4})-(?:\\d{2})$", "2026-12", true), ("^(a|ab)(c|bcd)(d*)$", "abcd", true),
            ("^(a*)*b$", "aaab", true), ("^(a*)+$", "", true), ("^(?:)*$", "", true),
            ("^(?:){1000000000}x$", "x", true),
        ])
    func construct(pattern: String, string: String, expected: Bool) throws {
        #expect(try Self.matches(pattern, string) == expected)
    }

    @Test(
        "patterns ECMA-262 with the u flag refuses, or a linear matcher cannot do, are refused with the reason",
        arguments: [
            ("(a)\\1", "backreferences"), ("(?<n>a)\\k<n>", "backreferences"), ("a{2,1}", "out of order"),
            ("[z-a]", "out of order"), ("[\\d-z]", "class escape"), ("*a", "nothing to repeat"),
            ("a**", "nothing to repeat"), ("^*", "nothing to repeat"), ("\\b+", "nothing to repeat"),
            ("(?=a)*", "nothing to repeat"), ("a{1}{2}", "nothing to repeat"), ("{", "literal brace"),
            ("a}", "unexpected '}'"), ("]", "unexpected ']'"), ("\\q", "\\q at character 1"),
            ("\\u12", "\\u"),
            ("(a", "')'"), ("a)", "unexpected ')'"), ("[a", "']'"), ("(?i)a", "unknown group"),
            ("\\p{Letterz}", "names no Unicode property"), ("\\p{Script=Greek}", "scripts are not available"),
            ("\\p{L", "'}'"), ("a\\", "an escape"), ("(?<>a)", "group name"),
            (
                String(repeating: "(", count: 101) + String(repeating: ")", count: 101),
                "nested deeper than 100"
            ),
            ("(?:(?:(?:a{100}){100}){100})", "more than 50000 matcher instructions"),
            (String(repeating: "a", count: 10_001), "longer than 10000 characters"),
        ])
    func refused(pattern: String, reason: String) throws {
        let error = try #require(throws: JSONSchemaCompileError.self) {
            try JSONSchema(["pattern": .string(pattern)])
        }
        #expect(error.schemaLocation.description == "/pattern")
        #expect(error.message.contains(reason), "\(error.message)")
    }

    /// The patterns below, which Swift's backtracking Regex evaluates correctly on short inputs, give
    /// the same answer from the linear matcher on every string of a seeded random sample. (Not `\b` or `\B`
    /// next to digits: Swift's simple word boundary does not count `1` a word character, where
    /// JavaScript's does; the table above holds that case.)
    @Test("the linear matcher agrees with a backtracking matcher on random strings")
    func agreesWithBacktracking() throws {
        let patterns = [
            "^(a|b)*abb$", "a+b?-", "^(?:ab|a)(?:ba|b)*$", "^[a-c]{2,4}(?:-\\d)?$", "(?=ab)a.",
            "(?!a)\\w{2}", "^\\s*(?:[ab]+\\s*,\\s*)*[ab]+\\s*$", "^(a*b*)*c?$", "^.{0,3}$",
            "^(?:a|b|)+$", "1(?:a|_){1,3}1", "[^ab\\s]",
        ]
        var generator = SplitMix64(seed: 0x6b65656c)
        let alphabet = Array("ab-_ 1,c\n")
        for pattern in patterns {
            let reference = try Regex(pattern).matchingSemantics(.unicodeScalar).asciiOnlyDigits()
                .asciiOnlyWordCharacters().wordBoundaryKind(.simple).anchorsMatchLineEndings(false)
                .dotMatchesNewlines(false)
            let schema = try JSONSchema(["pattern": .string(pattern)])
            for _ in 0..<400 {
                let length = Int(generator.next() % 10)
                let string = String(
                    (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
                let expected = string.contains(reference)
                #expect(
                    schema.isValid(.string(string)) == expected,
                    "\(pattern) against \(string.debugDescription)")
            }
        }
    }
}
