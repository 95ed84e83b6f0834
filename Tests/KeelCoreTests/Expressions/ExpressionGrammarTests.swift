import KeelCore
import Testing

@Suite("Expression grammar")
struct ExpressionGrammarTests {
    @Test(
        "literals",
        arguments: [
            ("'hello'", "hello" as JSONValue),
            ("'it''s'", "it's"),
            ("''", ""),
            ("'}}'", "}}"),
            ("42", 42),
            ("-1.5e3", -1500),
            ("0.1", 0.1),
            (
                "123456789012345678901234567890",
                JSONValue.number(JSONNumber(jsonText: "123456789012345678901234567890") ?? JSONNumber(0))
            ),
            ("true", true),
            ("false", false),
            ("null", nil),
        ] as [(String, JSONValue)])
    func literals(source: String, expected: JSONValue) throws {
        #expect(try ExpressionFixture.evaluate(source) == expected)
    }

    @Test(
        "numbers follow JSON syntax",
        arguments: ["01", "1.", ".5", "1e", "+1", "-", "1.2.3", "12abc", "0x10"])
    func badNumbers(source: String) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .syntax)
        #expect(error.column == 1)
    }

    @Test(
        "paths into input",
        arguments: [
            ("input.repo", "keel/core" as JSONValue),
            ("input.nested.a.b.c", "deep"),
            ("input.list[0]", 1),
            ("input.list[1]", "two"),
            ("input.list[2][0]", 3),
            ("input.list[3].four", 4),
            ("input['odd key']", "odd"),
            ("input['nested']['a'].b['c']", "deep"),
            ("input.list[input.count]", ["four": 4]),
            ("input.names[1.0]", "bob"),
            ("input.big", 12_345_678_901_234_567),
        ] as [(String, JSONValue)])
    func inputPaths(source: String, expected: JSONValue) throws {
        #expect(try ExpressionFixture.evaluate(source) == expected)
    }

    @Test(
        "missing properties are null",
        arguments: [
            "input.missing", "input.missing.deeper", "input.list[10]", "input.list[-1]",
            "input.list[0.5]",
            "input.repo.length", "input.list.x", "input.names['0']", "input.list[null]",
            "input.list[true]",
            "steps.nosuch.outputs.x", "steps.nosuch.status", "steps.test.decision",
            "steps.patch.outputs.nope",
            "'abc'[0]", "null.x",
        ])
    func missing(source: String) throws {
        #expect(try ExpressionFixture.evaluate(source) == .null)
    }

    @Test("whole input and member names that are keywords")
    func wholeInput() throws {
        #expect(try ExpressionFixture.evaluate("input") == ExpressionFixture.input)
        let input: JSONValue = ["null": 1, "true": 2, "input": 3, "my-key": 4]
        let context = ExpressionFixture.context(input: input)
        #expect(try ExpressionFixture.evaluate("input.null", in: context) == 1)
        #expect(try ExpressionFixture.evaluate("input.true", in: context) == 2)
        #expect(try ExpressionFixture.evaluate("input.input", in: context) == 3)
        #expect(try ExpressionFixture.evaluate("input.my-key", in: context) == 4)
    }

    @Test("steps and run")
    func stepsAndRun() throws {
        #expect(try ExpressionFixture.evaluate("steps.patch.outputs.diff") == "--- a\n+++ b")
        #expect(
            try ExpressionFixture.evaluate("steps.patch.outputs") == [
                "diff": "--- a\n+++ b", "lines": 12,
            ])
        #expect(try ExpressionFixture.evaluate("steps['patch']['outputs']['lines']") == 12)
        #expect(try ExpressionFixture.evaluate("steps.patch.status") == "succeeded")
        #expect(try ExpressionFixture.evaluate("steps.bench.status") == "timed_out")
        #expect(try ExpressionFixture.evaluate("steps.review.decision") == "request_changes")
        #expect(try ExpressionFixture.evaluate("run.id") == "0190f1d2-0000-7000-8000-000000000001")
        #expect(try ExpressionFixture.evaluate("run.flow") == "safe-code-change")
        #expect(try ExpressionFixture.evaluate("run.version") == 7)
        #expect(try ExpressionFixture.evaluate("run.correlation_id") == "corr-1")
        #expect(try ExpressionFixture.evaluate("run.actor") == "alice")
        #expect(try ExpressionFixture.evaluate("run.attempt") == 2)
        #expect(try ExpressionFixture.evaluate("run['attempt']") == 2)
    }

    @Test("whitespace, including newlines, separates tokens")
    func whitespace() throws {
        #expect(try ExpressionFixture.evaluate("  input . repo\n==\t'keel/core'\r\n") == true)
    }

    @Test("precedence: ! binds tightest, then comparison, equality, &&, ||")
    func precedence() throws {
        #expect(try ExpressionFixture.evaluate("true || false && false") == true)
        #expect(try ExpressionFixture.evaluate("(true || false) && false") == false)
        #expect(try ExpressionFixture.evaluate("!false == true") == true)
        #expect(try ExpressionFixture.evaluate("!(1 == 2)") == true)
        #expect(try ExpressionFixture.evaluate("1 < 2 == true") == true)
        #expect(try ExpressionFixture.evaluate("1 == 1 && 2 == 3 || 4 > 3") == true)
        #expect(try ExpressionFixture.evaluate("false && true || true") == true)
        #expect(try ExpressionFixture.evaluate("1 < 2 == 2 < 1") == false)
        #expect(try ExpressionFixture.evaluate("!!input.count") == true)
        #expect(try ExpressionFixture.evaluate("!input.list[0] == false") == true)
    }

    @Test(
        "syntax errors name the offending text and its column",
        arguments: [
            ("input.repo == 'x')", "unexpected ')' at column 18", ")"),
            ("(input.repo", "unexpected end of expression, expected ')' at column 12", ""),
            ("input.repo = 'x'", "unexpected '=' (did you mean '=='?) at column 12", "="),
            ("true & false", "unexpected '&' (did you mean '&&'?) at column 6", "&"),
            ("true | false", "unexpected '|' (did you mean '||'?) at column 6", "|"),
            ("'open", "unterminated string at column 1", "'open"),
            ("input.", "unexpected end of expression, expected a name after '.' at column 7", ""),
            ("input.list[0", "unexpected end of expression, expected ']' at column 13", ""),
            ("1 2", "unexpected '2' at column 3", "2"),
            ("input.repo #", "unexpected character '#' at column 12", "#"),
            ("", "empty expression at column 1", ""),
            ("   ", "empty expression at column 4", ""),
            ("contains(1,)", "unexpected ')' at column 12", ")"),
            ("== 1", "unexpected '==' at column 1", "=="),
            ("input.'x'", "unexpected ''x'', expected a name after '.' at column 7", "'x'"),
        ])
    func syntaxErrors(source: String, description: String, text: String) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .syntax)
        #expect(error.kind.isCompileError)
        #expect(error.description == description)
        #expect(error.text == text)
    }

    @Test(
        "unknown roots and fields are compile errors",
        arguments: [
            ("inptu.x", "unknown name 'inptu'", 1),
            ("input.a == secret.X", "unknown name 'secret'", 12),
            ("env.HOME", "unknown name 'env'", 1),
            ("run.idd", "unknown run field 'idd'", 5),
            ("steps.patch.output.diff", "unknown step field 'output'", 13),
            ("steps.patch.conclusion", "unknown step field 'conclusion'", 13),
        ])
    func unknownNames(source: String, prefix: String, column: Int) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .unknownName)
        #expect(error.message.hasPrefix(prefix))
        #expect(error.column == column)
    }

    @Test(
        "roots that need a selector",
        arguments: [
            "steps", "steps.patch", "steps[0]", "run", "secrets", "secrets[input.x]", "steps.patch[0]",
        ])
    func incompleteRoots(source: String) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .syntax)
    }

    @Test("identifiers are ASCII words; other scripts are quoted keys")
    func unicode() throws {
        let context = ExpressionFixture.context(input: ["ключ": "значение"])
        #expect(try ExpressionFixture.evaluate("input['ключ'] == 'значение'", in: context) == true)
        let error = try #require(ExpressionFixture.error("input.ключ"))
        #expect(error.column == 7)
        #expect(error.description == "unexpected character 'к' at column 7")
    }

    @Test("columns count Unicode scalars")
    func columnsInScalars() throws {
        let error = try #require(ExpressionFixture.error("'été' == 1 )"))
        #expect(error.column == 12)
    }

    @Test("expressions are equal when their source is, and describe themselves as written")
    func equality() throws {
        let a = try Expression(parsing: "input.repo")
        let b = try Expression(parsing: "input.repo")
        let c = try Expression(parsing: "input .repo")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != c)
        #expect(a.description == "${{ input.repo }}")
    }
}
