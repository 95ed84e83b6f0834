import KeelCore
import Testing

@Suite("Expression limits")
struct ExpressionLimitsTests {
    @Test("10k nested parentheses are an error, not a stack overflow")
    func deepParentheses() throws {
        let source = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        let error = try #require(ExpressionFixture.error(source))
        #expect(error.kind == .limitExceeded)
        // Even with the length limit lifted, depth stops it.
        let unlimited = ExpressionLimits(maximumExpressionLength: .max, maximumTemplateLength: .max)
        let deep = try #require(ExpressionFixture.error(source, limits: unlimited))
        #expect(deep.kind == .limitExceeded)
        #expect(deep.message == "expression nests deeper than 64 levels")
        #expect(deep.column == 65)
    }

    @Test(
        "every way of nesting is bounded",
        arguments: [
            String(repeating: "!", count: 10_000) + "true",
            String(repeating: "contains(", count: 5_000) + "1" + String(repeating: ", 1)", count: 5_000),
            "input" + String(repeating: "[0]", count: 10_000),
            "input" + String(repeating: ".a", count: 10_000),
            String(repeating: "1 == ", count: 10_000) + "1",
            String(repeating: "1 < ", count: 10_000) + "1",
            String(repeating: "input[", count: 10_000) + "0" + String(repeating: "]", count: 10_000),
            String(repeating: "(", count: 100_000),
            String(repeating: "[", count: 100_000),
        ])
    func nesting(source: String) throws {
        let unlimited = ExpressionLimits(maximumExpressionLength: .max, maximumTemplateLength: .max)
        let error = try #require(ExpressionFixture.error(source, limits: unlimited))
        #expect(error.kind == .limitExceeded || error.kind == .syntax)
        let template = #expect(throws: ExpressionError.self) {
            try ExpressionTemplate(parsing: "x ${{ \(source) }}", limits: unlimited)
        }
        #expect(template != nil)
    }

    @Test("nesting within the limit works")
    func allowedNesting() throws {
        let source =
            String(repeating: "(", count: 60) + "input.count" + String(repeating: ")", count: 60)
        #expect(try ExpressionFixture.evaluate(source) == 3)
        let negations = String(repeating: "!", count: 60) + "true"
        #expect(try ExpressionFixture.evaluate(negations) == true)
    }

    @Test("over-long expressions and templates are rejected")
    func length() throws {
        let long = Array(repeating: "true", count: 1_000).joined(separator: " && ")
        let error = try #require(ExpressionFixture.error(long))
        #expect(error.kind == .limitExceeded)
        #expect(error.description == "expression is longer than 4096 characters at column 1")
        let limits = ExpressionLimits(maximumTemplateLength: 100)
        let template = #expect(throws: ExpressionError.self) {
            try ExpressionTemplate(parsing: String(repeating: "x", count: 101), limits: limits)
        }
        #expect(template?.kind == .limitExceeded)
    }

    @Test("evaluation steps are bounded")
    func steps() throws {
        let limits = ExpressionLimits(maximumSteps: 50)
        let chain = Array(repeating: "input.flag", count: 100).joined(separator: " && ")
        let context = ExpressionFixture.context(limits: limits)
        let error = try #require(ExpressionFixture.error(chain, in: context))
        #expect(error.kind == .limitExceeded)
        #expect(error.message.hasPrefix("evaluation exceeded 50 steps"))
        #expect(try ExpressionFixture.evaluate("input.flag && input.flag", in: context) == true)
    }

    @Test("a million-element input: scanning it hits the step limit, reading one element does not")
    func hugeArray() throws {
        let input: JSONValue = ["items": .array(Array(repeating: "x", count: 1_500_000))]
        let context = ExpressionFixture.context(input: input)
        #expect(try ExpressionFixture.evaluate("input.items[1499999]", in: context) == "x")
        for source in [
            "contains(input.items, 'y')", "join(input.items, ',')", "toJSON(input)", "input == input",
            "format('{0}', input.items)",
        ] {
            let error = try #require(ExpressionFixture.error(source, in: context))
            #expect(error.kind == .limitExceeded, "\(source)")
        }
        let template = try ExpressionTemplate(parsing: "items: ${{ input.items }}")
        let error = #expect(throws: ExpressionError.self) { try template.evaluate(in: context) }
        #expect(error?.kind == .limitExceeded)
    }

    @Test("strings built by evaluation are bounded")
    func hugeStrings() throws {
        let big = String(repeating: "a", count: 2_500_000)
        let context = ExpressionFixture.context(input: ["s": .string(big)])
        #expect(try ExpressionFixture.evaluate("contains(input.s, 'ab')", in: context) == false)
        #expect(try ExpressionFixture.evaluate("startsWith(input.s, 'aaa')", in: context) == true)
        for source in [
            "format('{0}{0}', input.s)", "join(fromJSON('[1,2,3]'), input.s)",
            "toJSON(fromJSON('[1,2,3]')) == format('{0}{0}', input.s)",
        ] {
            let error = try #require(ExpressionFixture.error(source, in: context))
            #expect(error.kind == .limitExceeded, "\(source)")
            #expect(!error.description.contains("aaaa"))
        }
        let template = try ExpressionTemplate(parsing: "${{ input.s }}${{ input.s }}")
        let error = #expect(throws: ExpressionError.self) { try template.evaluate(in: context) }
        #expect(error?.kind == .limitExceeded)
        #expect(error?.column == 19)
    }

    @Test("deeply nested values are an error when walked, not a crash")
    func deepValues() throws {
        // Every level is kept alive here, outermost first, so releasing them never recurses deeply.
        var levels: [JSONValue] = [1]
        for _ in 0..<100_000 { levels.append(.array([levels[levels.count - 1]])) }
        levels.reverse()
        try withExtendedLifetime(levels) {
            let context = ExpressionFixture.context(input: ["deep": levels[0]])
            #expect(
                try ExpressionFixture.evaluate("input.deep[0][0][0]", in: context).arrayValue?.count == 1)
            for source in [
                "toJSON(input.deep)", "input.deep == input.deep", "contains(fromJSON('[1]'), input.deep)",
                "join(input.deep, ',')", "format('{0}', input.deep)",
            ] {
                let error = try #require(ExpressionFixture.error(source, in: context))
                #expect(error.kind == .limitExceeded, "\(source)")
                #expect(error.message.contains("nests deeper than 512 levels"), "\(source)")
            }
        }
        let nestedJSON = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let parse = try #require(
            ExpressionFixture.error(
                "fromJSON(input.text)", in: ExpressionFixture.context(input: ["text": .string(nestedJSON)]))
        )
        #expect(parse.kind == .invalidArgument)
    }

    @Test("pathological substring searches stay linear")
    func substringSearch() throws {
        let haystack = String(repeating: "a", count: 1_000_000)
        let needle = String(repeating: "a", count: 500_000) + "b"
        let context = ExpressionFixture.context(input: ["h": .string(haystack), "n": .string(needle)])
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try ExpressionFixture.evaluate("contains(input.h, input.n)", in: context) == false)
        #expect(clock.now - start < .seconds(20))
    }
}
