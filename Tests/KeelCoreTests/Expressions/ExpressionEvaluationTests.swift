import KeelCore
import Testing

@Suite("Expression evaluation")
struct ExpressionEvaluationTests {
    @Test("one compiled template is evaluated concurrently against different contexts")
    func concurrentEvaluation() async throws {
        let template = try ExpressionTemplate(
            parsing: "${{ input.n }}:${{ run.attempt }}:${{ secrets.TOKEN }}")
        let results = await withTaskGroup(of: (Int, JSONValue?).self) { group in
            for n in 0..<200 {
                group.addTask {
                    var run = ExpressionFixture.run
                    run.attempt = n + 1
                    let context = ExpressionContext(
                        input: ["n": .number(JSONNumber(n))], run: run, secrets: { _ in "t\(n)" })
                    return (n, try? template.evaluate(in: context))
                }
            }
            var collected: [Int: JSONValue] = [:]
            for await (n, value) in group { collected[n] = value }
            return collected
        }
        #expect(results.count == 200)
        for n in 0..<200 {
            #expect(results[n] == .string("\(n):\(n + 1):t\(n)"))
        }
    }

    @Test("the step budget is shared by all expressions of one template evaluation")
    func sharedBudget() throws {
        let limits = ExpressionLimits(maximumSteps: 10)
        let context = ExpressionFixture.context(limits: limits)
        let one = try ExpressionTemplate(parsing: "${{ input.flag && input.flag }}")
        #expect(try one.evaluate(in: context) == true)
        // Each evaluation starts with a fresh budget.
        #expect(try one.evaluate(in: context) == true)
        let many = try ExpressionTemplate(
            parsing: String(repeating: "${{ input.flag && input.flag }}", count: 5))
        let error = #expect(throws: ExpressionError.self) { try many.evaluate(in: context) }
        #expect(error?.kind == .limitExceeded)
        #expect(error?.column ?? 0 > 1)
    }

    @Test("steps absent from the context read as null")
    func absentSteps() throws {
        let context = ExpressionContext(run: ExpressionFixture.run)
        #expect(try ExpressionFixture.evaluate("steps.later.status", in: context) == .null)
        #expect(try ExpressionFixture.evaluate("steps.later.outputs", in: context) == .null)
        #expect(try ExpressionFixture.evaluate("steps.later.status == 'succeeded'", in: context) == false)
        #expect(try ExpressionFixture.evaluate("input", in: context) == .null)
        #expect(try ExpressionFixture.evaluate("run.actor", in: context) == "alice")
        var anonymous = ExpressionFixture.run
        anonymous.actor = nil
        #expect(
            try ExpressionFixture.evaluate("run.actor", in: ExpressionContext(run: anonymous)) == .null)
    }

    @Test("every step status and decision reads as its documented spelling")
    func spellings() throws {
        for status in StepContext.Status.allCases {
            let context = ExpressionContext(
                steps: ["s": StepContext(status: status)], run: ExpressionFixture.run)
            #expect(try ExpressionFixture.evaluate("steps.s.status", in: context) == .string(status.rawValue))
        }
        #expect(
            StepContext.Status.allCases.map(\.rawValue) == [
                "pending", "running", "succeeded", "failed", "skipped", "cancelled", "timed_out", "partial",
            ])
        for decision in StepContext.Decision.allCases {
            let context = ExpressionContext(
                steps: ["a": StepContext(status: .succeeded, decision: decision)], run: ExpressionFixture.run)
            #expect(
                try ExpressionFixture.evaluate("steps.a.decision", in: context) == .string(decision.rawValue))
        }
        #expect(StepContext.Decision.allCases.map(\.rawValue) == ["approve", "reject", "request_changes"])
    }

    @Test("errors are values: equal, hashable and described without a value")
    func errorValues() throws {
        let first = try #require(ExpressionFixture.error("input.repo < 1"))
        let second = try #require(ExpressionFixture.error("input.repo < 1"))
        #expect(first == second)
        #expect(Set([first, second]).count == 1)
        #expect(!first.description.contains("keel/core"))
    }
}
