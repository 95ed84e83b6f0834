import KeelCore
import Testing

@Suite("Expression operators")
struct ExpressionOperatorTests {
    @Test(
        "equality is structural JSON equality without coercion",
        arguments: [
            ("1 == 1.0", true),
            ("1 == 10e-1", true),
            ("1 == '1'", false),
            ("'1' != 1", true),
            ("true == 1", false),
            ("null == false", false),
            ("null == 0", false),
            ("null == ''", false),
            ("input.nothing == null", true),
            ("input.missing == null", true),
            ("'a' == 'a'", true),
            ("'a' == 'A'", false),
            ("input.names == fromJSON('[\"ann\",\"bob\"]')", true),
            ("input.names == fromJSON('[\"bob\",\"ann\"]')", false),
            ("input.nested == fromJSON('{\"a\":{\"b\":{\"c\":\"deep\"}}}')", true),
            ("fromJSON('{\"a\":1,\"b\":2}') == fromJSON('{\"b\":2.0,\"a\":1}')", true),
            ("input.list[2] == fromJSON('[3]')", true),
            ("steps.patch.status == 'succeeded'", true),
            ("steps.test.status != 'succeeded'", true),
            ("input.big == 12345678901234567", true),
            ("input.big == 12345678901234568", false),
        ])
    func equality(source: String, expected: Bool) throws {
        #expect(try ExpressionFixture.evaluate(source) == .bool(expected))
    }

    @Test(
        "ordering compares numbers by value and strings by code point",
        arguments: [
            ("1 < 2", true), ("2 < 1", false), ("1 <= 1", true), ("1 >= 1.0", true), ("2 > 1", true),
            ("-1 < 0", true), ("0.1 < 0.2", true), ("1e2 > 99", true), ("1 > 1", false), ("1 < 1", false),
            ("input.big > 12345678901234566", true),
            ("'a' < 'b'", true), ("'B' < 'a'", true), ("'a' <= 'a'", true), ("'ab' > 'a'", true),
            ("'' < 'a'", true), ("'z' >= 'é'", false), ("input.count >= 3", true),
        ])
    func ordering(source: String, expected: Bool) throws {
        #expect(try ExpressionFixture.evaluate(source) == .bool(expected))
    }

    @Test(
        "ordering other types is a runtime error naming both types",
        arguments: [
            ("1 < '2'", "number and string"),
            ("'a' > 1", "string and number"),
            ("null < 1", "null and number"),
            ("true <= false", "boolean and boolean"),
            ("input.names >= input.names", "array and array"),
            ("input.nested > 1", "object and number"),
            ("input.missing < 3", "null and number"),
        ])
    func orderingTypeErrors(source: String, types: String) throws {
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .typeMismatch)
        #expect(!error.kind.isCompileError)
        #expect(error.message.contains(types))
        #expect(error.column == 1)
        #expect(error.text == source)
    }

    @Test("the column of a runtime error is that of the failing operation")
    func runtimeColumn() throws {
        let error = try #require(ExpressionFixture.error("true && (input.repo < 1)"))
        #expect(error.column == 9)
        #expect(error.text == "(input.repo < 1)")
        #expect(
            error.description
                == "'<' compares two numbers or two strings, not string and number in '(input.repo < 1)' at column 9"
        )
        let inner = try #require(ExpressionFixture.error("true && contains(1 < 2, input.repo < 1)"))
        #expect(inner.column == 25)
        #expect(inner.text == "input.repo < 1")
    }

    @Test(
        "truthiness: null, false, 0 and '' are falsy",
        arguments: [
            ("null", false), ("false", false), ("0", false), ("0.0", false), ("''", false),
            ("true", true), ("1", true), ("-0.5", true), ("'false'", true), ("'0'", true), ("' '", true),
            ("fromJSON('[]')", true), ("fromJSON('{}')", true), ("input.missing", false),
        ])
    func truthiness(source: String, truthy: Bool) throws {
        #expect(try ExpressionFixture.evaluate("!\(source)") == .bool(!truthy))
        #expect(try ExpressionFixture.evaluate("!!(\(source))") == .bool(truthy))
        #expect(try ExpressionFixture.evaluate("\(source) && true") == .bool(truthy))
        #expect(try ExpressionFixture.evaluate("\(source) || false") == .bool(truthy))
    }

    @Test("&& and || return Booleans, not operands")
    func logicalResults() throws {
        #expect(try ExpressionFixture.evaluate("'a' && 'b'") == true)
        #expect(try ExpressionFixture.evaluate("'a' || 'b'") == true)
        #expect(try ExpressionFixture.evaluate("'' || 0") == false)
        #expect(try ExpressionFixture.evaluate("input.repo && input.count && input.flag") == true)
        #expect(try ExpressionFixture.evaluate("input.repo && input.empty && input.flag") == false)
        #expect(try ExpressionFixture.evaluate("null || null || 'x'") == true)
    }

    @Test("&& and || short-circuit: the right side is not evaluated when the left decides")
    func shortCircuit() throws {
        #expect(try ExpressionFixture.evaluate("false && (1 < 'x')") == false)
        #expect(try ExpressionFixture.evaluate("true || (1 < 'x')") == true)
        #expect(try ExpressionFixture.evaluate("input.missing && secrets.NOPE") == false)
        #expect(try ExpressionFixture.evaluate("input.flag || secrets.NOPE") == true)
        let error = try #require(ExpressionFixture.error("true && (1 < 'x')"))
        #expect(error.kind == .typeMismatch)
        let secretError = try #require(ExpressionFixture.error("false || secrets.NOPE"))
        #expect(secretError.kind == .missingSecret)
    }

    @Test("long && and || chains evaluate without deep nesting")
    func longChains() throws {
        let chain = Array(repeating: "input.flag", count: 250).joined(separator: " && ")
        #expect(try ExpressionFixture.evaluate(chain) == true)
        let alternatives = (0..<150).map { "input.count == \($0)" }.joined(separator: " || ")
        #expect(try ExpressionFixture.evaluate(alternatives) == true)
    }
}
