import KeelCore
import Testing

@Suite("Expression functions")
struct ExpressionFunctionTests {
    @Test(
        "contains, startsWith, endsWith",
        arguments: [
            ("contains('hello world', 'o w')", true),
            ("contains('hello', 'H')", false),
            ("contains('hello', '')", true),
            ("contains('', '')", true),
            ("contains('', 'a')", false),
            ("contains('aaaaaab', 'aaab')", true),
            ("contains('ababac', 'abac')", true),
            ("contains('ababab', 'abac')", false),
            ("contains('naïve', 'ï')", true),
            ("contains(input.names, 'bob')", true),
            ("contains(input.names, 'Bob')", false),
            ("contains(input.list, 1.0)", true),
            ("contains(input.list, '1')", false),
            ("contains(input.list, fromJSON('{\"four\":4}'))", true),
            ("contains(input.list, fromJSON('[3]'))", true),
            ("contains(fromJSON('[]'), null)", false),
            ("contains(fromJSON('[null]'), null)", true),
            ("startsWith(input.repo, 'keel/')", true),
            ("startsWith(input.repo, 'Keel/')", false),
            ("startsWith('a', 'ab')", false),
            ("startsWith('abc', '')", true),
            ("endsWith(input.repo, '/core')", true),
            ("endsWith(input.repo, 'keel')", false),
            ("endsWith('é', 'e')", false),
            ("endsWith('', '')", true),
        ])
    func stringAndArrayPredicates(source: String, expected: Bool) throws {
        #expect(try ExpressionFixture.evaluate(source) == .bool(expected))
    }

    @Test(
        "predicate type errors",
        arguments: [
            ("contains('abc', 1)", "not number"),
            ("contains(1, 1)", "not number"),
            ("contains(null, 'a')", "not null"),
            ("contains(input.nested, 'a')", "not object"),
            ("startsWith(1, 'a')", "not number and string"),
            ("endsWith('a', null)", "not string and null"),
            ("startsWith(input.names, 'ann')", "not array and string"),
        ])
    func predicateTypeErrors(source: String, fragment: String) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .typeMismatch)
        #expect(error.message.contains(fragment))
        #expect(error.column == 1)
    }

    @Test("toJSON writes canonical compact JSON")
    func toJSON() throws {
        #expect(try ExpressionFixture.evaluate("toJSON(input.nested)") == #"{"a":{"b":{"c":"deep"}}}"#)
        #expect(
            try ExpressionFixture.evaluate("toJSON(fromJSON('{\"b\":1.0,\"a\":[true,null]}'))")
                == #"{"a":[true,null],"b":1}"#)
        #expect(try ExpressionFixture.evaluate("toJSON('it''s \"x\"')") == #""it's \"x\"""#)
        #expect(try ExpressionFixture.evaluate("toJSON(null)") == "null")
        #expect(try ExpressionFixture.evaluate("toJSON(1e3)") == "1000")
        #expect(try ExpressionFixture.evaluate("toJSON(input.missing)") == "null")
    }

    @Test("fromJSON parses any JSON value, and rejects invalid JSON without quoting it")
    func fromJSON() throws {
        #expect(
            try ExpressionFixture.evaluate("fromJSON('[1, \"a\", {\"b\": null}]')") == [
                1, "a", ["b": nil],
            ])
        #expect(try ExpressionFixture.evaluate("fromJSON('42')") == 42)
        #expect(try ExpressionFixture.evaluate("fromJSON(' true ')") == true)
        #expect(try ExpressionFixture.evaluate("fromJSON('{\"a\":[1,2]}').a[1]") == 2)
        #expect(try ExpressionFixture.evaluate("fromJSON(toJSON(input)) == input") == true)
        let invalid = try #require(ExpressionFixture.error("fromJSON('{\"a\": zzz}')"))
        #expect(invalid.kind == .invalidArgument)
        #expect(invalid.message.contains("line 1, column 7"))
        #expect(invalid.column == 1)
        let duplicate = try #require(ExpressionFixture.error("fromJSON('{\"a\":1,\"a\":2}')"))
        #expect(duplicate.kind == .invalidArgument)
        let notString = try #require(ExpressionFixture.error("fromJSON(1)"))
        #expect(notString.kind == .typeMismatch)
        #expect(notString.message.hasPrefix("fromJSON needs a string, not number"))
    }

    @Test(
        "format",
        arguments: [
            ("format('{0} and {1}', 'a', 'b')", "a and b"),
            ("format('{1}{0}{1}', 'a', 'b')", "bab"),
            ("format('no placeholders')", "no placeholders"),
            ("format('{{0}} is {0}', 'x')", "{0} is x"),
            ("format('}}{{')", "}{"),
            (
                "format('{0}|{1}|{2}|{3}|{4}|{5}', null, true, 1.50, input.names, input.nested, 'é')",
                #"|true|1.5|["ann","bob"]|{"a":{"b":{"c":"deep"}}}|é"#
            ),
            ("format('{10}', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'ten')", "ten"),
            ("format('{0}', '{1}')", "{1}"),
        ])
    func format(source: String, expected: String) throws {
        #expect(try ExpressionFixture.evaluate(source) == .string(expected))
    }

    @Test(
        "format errors",
        arguments: [
            ("format('{0}')", ExpressionError.Kind.invalidArgument),
            ("format('{1}', 'a')", .invalidArgument),
            ("format('{', 'a')", .invalidArgument),
            ("format('}', 'a')", .invalidArgument),
            ("format('{x}', 'a')", .invalidArgument),
            ("format('{0', 'a')", .invalidArgument),
            ("format('{}', 'a')", .invalidArgument),
            ("format('{99999999999999999999999}', 'a')", .invalidArgument),
            ("format(1, 'a')", .typeMismatch),
        ])
    func formatErrors(source: String, kind: ExpressionError.Kind) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == kind)
        #expect(error.column == 1)
        #expect(error.text == source)
    }

    @Test("join")
    func join() throws {
        #expect(try ExpressionFixture.evaluate("join(input.names, ', ')") == "ann, bob")
        #expect(try ExpressionFixture.evaluate("join(input.names)") == "ann,bob")
        #expect(try ExpressionFixture.evaluate("join(input.list, ' ')") == #"1 two [3] {"four":4}"#)
        #expect(try ExpressionFixture.evaluate("join(fromJSON('[]'), '-')") == "")
        #expect(try ExpressionFixture.evaluate("join(fromJSON('[null, true, \"\"]'), '-')") == "-true-")
        let notArray = try #require(ExpressionFixture.error("join('abc', ',')"))
        #expect(notArray.kind == .typeMismatch)
        #expect(notArray.message.hasPrefix("join needs an array, not string"))
        let badSeparator = try #require(ExpressionFixture.error("join(input.names, 1)"))
        #expect(badSeparator.kind == .typeMismatch)
    }

    @Test(
        "unknown functions and wrong arity are compile errors",
        arguments: [
            ("nosuch(1)", ExpressionError.Kind.unknownName, "unknown function 'nosuch'", 1),
            ("Contains('a', 'b')", .unknownName, "unknown function 'Contains'", 1),
            ("input.x == toString(1)", .unknownName, "unknown function 'toString'", 12),
            ("contains('a')", .wrongArity, "contains takes 2 arguments, got 1", 1),
            ("contains('a', 'b', 'c')", .wrongArity, "contains takes 2 arguments, got 3", 1),
            ("startsWith()", .wrongArity, "startsWith takes 2 arguments, got 0", 1),
            ("true && toJSON()", .wrongArity, "toJSON takes 1 argument, got 0", 9),
            ("fromJSON('1', '2')", .wrongArity, "fromJSON takes 1 argument, got 2", 1),
            ("format()", .wrongArity, "format takes at least 1 argument, got 0", 1),
            ("join(input.names, ',', 'x')", .wrongArity, "join takes 1 or 2 arguments, got 3", 1),
        ])
    func compileErrors(source: String, kind: ExpressionError.Kind, message: String, column: Int)
        throws
    {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == kind)
        #expect(error.kind.isCompileError)
        #expect(error.message.hasPrefix(message))
        #expect(error.column == column)
    }

    @Test("a function name without a call is an error")
    func functionWithoutCall() throws {
        let error = try #require(ExpressionFixture.error("contains"))
        #expect(error.kind == .syntax)
        #expect(error.message.contains("'(' after function name 'contains'"))
    }

    @Test("results of calls can be indexed")
    func postfixOnCalls() throws {
        #expect(try ExpressionFixture.evaluate("fromJSON('{\"a\":{\"b\":[10,20]}}').a.b[1]") == 20)
        #expect(try ExpressionFixture.evaluate("(input.nested).a['b'].c") == "deep")
    }
}
