import Foundation
import Testing

@testable import KeelCore

/// Usage reports: what is accepted, what is refused and why, and the facts that carry them.
@Suite("Usage")
struct UsageTests {
    @Test("A usage report reads known keys as amounts")
    func reads() throws {
        let usage = try Usage(json: ["tokens": 1234, "money": 0.12, "machine_minutes": 0], field: "usage")
        #expect(usage == Usage(tokens: 1234, money: 0.12))
    }

    /// Each bad report, the member at fault and what the message says (typed apart: the literals are
    /// too much for one expression's type-checking).
    static let badReports: [(JSONValue, String, String)] = {
        let negative: JSONValue = ["tokens": -1]
        let huge: JSONValue = ["tokens": 1e300]
        let text: JSONValue = ["tokens": "NaN"]
        let flag: JSONValue = ["money": true]
        let unknown: JSONValue = ["dollars": 3]
        let list: JSONValue = [1, 2]
        return [
            (negative, "usage.tokens", "expected a finite number"),
            (huge, "usage.tokens", "expected a finite number"),
            (text, "usage.tokens", "expected a number; got string"),
            (flag, "usage.money", "expected a number"),
            (unknown, "usage.dollars", "unknown usage key"),
            (list, "usage", "expected an object"),
        ]
    }()

    @Test("A bad usage report is refused naming the member", arguments: badReports)
    func refuses(report: JSONValue, field: String, message: String) {
        #expect {
            try Usage(json: report, field: "usage")
        } throws: { error in
            guard let problem = error as? UsageProblem else { return false }
            return problem.field == field && problem.message.contains(message)
        }
    }

    @Test("Usage facts and budget facts round-trip through their JSON")
    func factsRoundTrip() throws {
        let at = Timestamp(millisecondsSinceEpoch: 1_800_000_000_123)
        let facts = [
            RunFact(
                at: at,
                event: .usageRecorded(step: "patch", attempt: 2, usage: Usage(tokens: 1500, money: 0.25))),
            RunFact(
                at: at,
                event: .budgetGateOpened(
                    BudgetGate(
                        number: 1, approvalID: "R:budget:1", step: "test",
                        summary: "used 2K of 2K tokens: approve 1K more?",
                        used: Usage(tokens: 2000, machineMinutes: 1.5), limits: UsageLimits(tokens: 2000))),
                derived: true),
            RunFact(
                at: at, event: .budgetRaised(gate: 1, limits: UsageLimits(tokens: 3000, money: 12.5)),
                derived: true),
        ]
        for fact in facts {
            let data = try JSONEncoder().encode(fact)
            #expect(try JSONDecoder().decode(RunFact.self, from: data) == fact)
        }
        let usage = String(decoding: try JSONEncoder().encode(facts[0]), as: UTF8.self)
        #expect(usage.contains(#""kind":"usage.recorded""#))
        #expect(usage.contains(#""usage":{"#))
    }

    @Test("The gate's summary reads like a question")
    func summary() {
        let text = BudgetGate.summary(
            used: Usage(tokens: 1_900_000), limits: UsageLimits(tokens: 1_900_000),
            raise: UsageLimits(tokens: 1_000_000), currency: nil)
        #expect(text == "used 1.9M of 1.9M tokens: approve 1M more?")
        let money = BudgetGate.summary(
            used: Usage(money: 26), limits: UsageLimits(tokens: 10, money: 25),
            raise: UsageLimits(tokens: 10, money: 10), currency: "USD")
        #expect(money == "used 26 of 25 USD: approve 10 tokens and 10 USD more?")
    }
}
