import KeelCore
import Testing

@Suite("Templates")
struct TemplateTests {
    private func evaluate(_ source: String) throws -> JSONValue {
        try ExpressionTemplate(parsing: source).evaluate(in: ExpressionFixture.context())
    }

    @Test(
        "a template that is exactly one expression keeps the value's type",
        arguments: [
            ("${{ input.count }}", 3 as JSONValue),
            ("${{input.flag}}", true),
            ("${{ input.nothing }}", nil),
            ("${{\n  input.names\n}}", ["ann", "bob"]),
            ("${{ input.nested.a }}", ["b": ["c": "deep"]]),
            ("${{ steps.bench.status == 'succeeded' }}", false),
            ("${{ '}}' }}", "}}"),
        ] as [(String, JSONValue)])
    func typedSingleExpression(source: String, expected: JSONValue) throws {
        #expect(try evaluate(source) == expected)
    }

    @Test(
        "mixed templates render each value into a string",
        arguments: [
            (" ${{ input.count }}", " 3"),
            ("${{ input.count }} ", "3 "),
            ("n=${{ input.count }}", "n=3"),
            ("${{ input.count }}${{ input.count }}", "33"),
            ("[${{ input.nothing }}]", "[]"),
            ("${{ input.flag }}/${{ input.ratio }}/${{ 1.0 }}/${{ 1e21 }}", "true/0.5/1/1e+21"),
            ("names: ${{ input.names }}", #"names: ["ann","bob"]"#),
            ("obj: ${{ input.list[3] }}", #"obj: {"four":4}"#),
            ("repo ${{ input.repo }} task '${{ input.task }}'", "repo keel/core task 'fix it'"),
            ("multi\nline ${{ input.count }}\n", "multi\nline 3\n"),
        ])
    func interpolation(source: String, expected: String) throws {
        #expect(try evaluate(source) == .string(expected))
    }

    @Test(
        "literal templates and escapes",
        arguments: [
            ("", ""),
            ("plain text", "plain text"),
            ("$${{ input.repo }}", "${{ input.repo }}"),
            ("cost: $5 {{ not }} }}", "cost: $5 {{ not }} }}"),
            ("$$${{ x }}", "$${{ x }}"),
            ("${ {", "${ {"),
            ("${", "${"),
        ])
    func literals(source: String, expected: String) throws {
        let template = try ExpressionTemplate(parsing: source)
        #expect(template.isLiteral)
        #expect(template.literalText == expected)
        #expect(template.expressions.isEmpty)
        #expect(template.references.isEmpty)
        #expect(try template.evaluate(in: ExpressionFixture.context()) == .string(expected))
    }

    @Test("an escaped part next to a real expression")
    func escapeBesideExpression() throws {
        let template = try ExpressionTemplate(parsing: "$${{ literal }} vs ${{ input.repo }}")
        #expect(!template.isLiteral)
        #expect(template.literalText == nil)
        #expect(template.expressions.map(\.source) == [" input.repo "])
        #expect(try template.evaluate(in: ExpressionFixture.context()) == "${{ literal }} vs keel/core")
    }

    @Test("errors inside a template report columns within the whole template")
    func errorColumns() throws {
        let compile = #expect(throws: ExpressionError.self) {
            try ExpressionTemplate(parsing: "abc ${{ input.repo == }}")
        }
        #expect(compile?.column == 23)
        #expect(compile?.description == "unexpected end of expression at column 23")
        let unknown = #expect(throws: ExpressionError.self) {
            try ExpressionTemplate(parsing: "x ${{ 1 }} ${{ inptu.a }}")
        }
        #expect(unknown?.kind == .unknownName)
        #expect(unknown?.column == 16)
        let template = try ExpressionTemplate(parsing: "value: ${{ input.repo < 1 }}")
        let runtime = #expect(throws: ExpressionError.self) {
            try template.evaluate(in: ExpressionFixture.context())
        }
        #expect(runtime?.column == 12)
        #expect(runtime?.text == "input.repo < 1")
    }

    @Test(
        "an unterminated ${{ is an error at its position",
        arguments: ["a ${{ input.repo", "a ${{ 'x }}", "a ${{ } }"])
    func unterminated(source: String) throws {
        let error = #expect(throws: ExpressionError.self) { try ExpressionTemplate(parsing: source) }
        #expect(error?.kind == .syntax)
        #expect(error?.column == 3)
        #expect(error?.message.hasPrefix("unterminated '${{'") == true)
    }

    @Test("an empty ${{ }} is an error")
    func emptyExpression() throws {
        let error = #expect(throws: ExpressionError.self) { try ExpressionTemplate(parsing: "x${{  }}") }
        #expect(error?.description == "empty expression at column 7")
    }

    @Test("templates are equal when their source is")
    func equality() throws {
        let a = try ExpressionTemplate(parsing: "a ${{ input.repo }}")
        #expect(a == (try ExpressionTemplate(parsing: "a ${{ input.repo }}")))
        #expect(a != (try ExpressionTemplate(parsing: "a ${{input.repo}}")))
        #expect(a.description == "a ${{ input.repo }}")
    }
}
