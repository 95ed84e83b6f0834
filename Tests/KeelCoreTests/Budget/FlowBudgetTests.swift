import Testing

@testable import KeelCore

/// `budget:`: limits, raise and approvers, with every refusal naming its field.
@Suite("Flow budget")
struct FlowBudgetTests {
    static let steps = "steps:\n  - id: a\n    noop: {}\n"

    private func errors(_ budget: String, sourceLocation: SourceLocation = #_sourceLocation) -> [FlowError] {
        FlowTest.errors("flow: demo\nbudget: \(budget)\n\(Self.steps)", sourceLocation: sourceLocation)
    }

    @Test("A budget's limits, raise and approvers are read, the raise defaulting to the initial limit")
    func parses() throws {
        let flow = try FlowTest.parse(
            """
            flow: demo
            budget:
              tokens: 2000000
              machine_minutes: 120
              money: {amount: 25, currency: USD}
              raise: {tokens: 1000000}
              approvers: [alice, "group:finance"]
            \(Self.steps)
            """)
        let budget = try #require(flow.budget)
        #expect(budget.limits == UsageLimits(tokens: 2_000_000, machineMinutes: 120, money: 25))
        #expect(budget.raise == UsageLimits(tokens: 1_000_000, machineMinutes: 120, money: 25))
        #expect(budget.currency == "USD")
        #expect(budget.approvers == [.user("alice"), .group("finance")])
        let again = try FlowDefinition(canonicalJSON: flow.jsonValue)
        #expect(again == flow)
        #expect(flow.canonicalJSON.contains(#""raise":{"tokens":1000000}"#))
    }

    @Test("A budget without any limit is refused")
    func needsALimit() {
        let found = errors("{approvers: [alice]}")
        #expect(found.map(\.path) == ["budget"])
        #expect(found.first?.message.contains("at least one of tokens, machine_minutes, money") == true)
    }

    @Test("A budget without approvers is refused naming the field")
    func needsApprovers() {
        // A missing field is reported at its parent, naming it, as everywhere in a flow.
        let missing = errors("{tokens: 10}")
        #expect(missing.map(\.path) == ["budget"])
        #expect(missing.first?.message.contains("'approvers'") == true)
        #expect(errors("{tokens: 10, approvers: []}").map(\.path) == ["budget.approvers"])
    }

    @Test(
        "Bad amounts are refused naming the field",
        arguments: [
            ("{tokens: 0, approvers: [a]}", "budget.tokens"),
            ("{tokens: 1.5, approvers: [a]}", "budget.tokens"),
            ("{tokens: -3, approvers: [a]}", "budget.tokens"),
            ("{tokens: many, approvers: [a]}", "budget.tokens"),
            ("{machine_minutes: .inf, approvers: [a]}", "budget.machine_minutes"),
            ("{money: {amount: 5, currency: usd}, approvers: [a]}", "budget.money.currency"),
            ("{money: {currency: USD}, approvers: [a]}", "budget.money"),
            ("{money: 25, approvers: [a]}", "budget.money"),
            ("{tokens: 10, raise: {machine_minutes: 5}, approvers: [a]}", "budget.raise.machine_minutes"),
            ("{tokens: 10, raise: {tokens: 0}, approvers: [a]}", "budget.raise.tokens"),
            ("{tokens: 10, raise: {cash: 1}, approvers: [a]}", "budget.raise.cash"),
            ("{tokens: 10, approvers: [a], limit: 3}", "budget.limit"),
            ("{tokens: 10, approvers: [\"bad name\"]}", "budget.approvers[0]"),
        ])
    func badAmounts(budget: String, path: String) {
        let found = errors(budget)
        #expect(found.map(\.path) == [path], "\(found)")
    }
}
