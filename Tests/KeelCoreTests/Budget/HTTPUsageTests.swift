import Testing

@testable import KeelCore

/// An `http` step's `usage`: templates that read the response, checked at push and evaluated after a
/// successful exchange.
@Suite("HTTP step usage")
struct HTTPUsageTests {
    static let flow = """
        flow: llm
        steps:
          - id: ask
            http:
              method: POST
              url: https://llm.example/v1/chat
              usage:
                tokens: "${{ response.body.usage.total_tokens }}"
                money: "${{ response.body.cost }}"
        """

    private func action(_ yaml: String = flow) throws -> HTTPAction {
        let flow = try FlowTest.parse(yaml)
        guard case .http(let action)? = flow.steps.first?.kind else {
            Issue.record("not an http step")
            throw UsageProblem(field: "", message: "")
        }
        return action
    }

    private var context: ExpressionContext { ExpressionFixture.context() }

    @Test("The templates are read per dimension and kept in the canonical form")
    func parses() throws {
        let action = try action()
        #expect(
            action.usage == [
                .tokens: "${{ response.body.usage.total_tokens }}", .money: "${{ response.body.cost }}",
            ])
        let flow = try FlowTest.parse(Self.flow)
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
        #expect(flow.canonicalJSON.contains(#""usage":{"money":"${{ response.body.cost }}""#))
    }

    @Test("The response's numbers are the attempt's usage; null reports nothing")
    func spent() throws {
        let action = try action()
        let response: JSONValue = [
            "status": 200, "headers": [:], "body": ["usage": ["total_tokens": 1234], "cost": 0.02],
        ]
        #expect(try action.spent(response: response, context: context) == Usage(tokens: 1234, money: 0.02))
        let silent: JSONValue = ["status": 200, "headers": [:], "body": ["choices": []]]
        #expect(try action.spent(response: silent, context: context) == .zero)
    }

    @Test("A value that is not a usable amount is refused naming the field")
    func refuses() throws {
        let action = try action()
        let text: JSONValue = ["status": 200, "body": ["usage": ["total_tokens": "many"]]]
        #expect {
            try action.spent(response: text, context: context)
        } throws: { error in
            (error as? UsageProblem)?.field == "http.usage.tokens"
        }
        let negative: JSONValue = ["status": 200, "body": ["usage": ["total_tokens": -1]]]
        #expect(throws: UsageProblem.self) { try action.spent(response: negative, context: context) }
    }

    @Test(
        "Bad usage templates are refused at push",
        arguments: [
            // `response` exists only in an http step's usage.
            (
                "  - id: a\n    http: {url: 'https://x.example/${{ response.status }}'}\n",
                "steps[0].http.url", "only an http step's usage"
            ),
            (
                "  - id: a\n    run: {command: [echo, '${{ response.body }}']}\n",
                "steps[0].run.command[1]", "only an http step's usage"
            ),
            // One expression, so the value can be a number.
            (
                "  - id: a\n    http: {url: 'https://x.example', usage: {tokens: '${{ response.body.n }} tokens'}}\n",
                "steps[0].http.usage.tokens", "expected one ${{ }} expression"
            ),
            (
                "  - id: a\n    http: {url: 'https://x.example', usage: {cash: '${{ response.body.n }}'}}\n",
                "steps[0].http.usage.cash", "unknown field 'cash'"
            ),
            (
                "  - id: a\n    http: {url: 'https://x.example', usage: {tokens: 12}}\n",
                "steps[0].http.usage.tokens", "expected a string"
            ),
        ])
    func badTemplates(steps: String, path: String, message: String) {
        let found = FlowTest.errors(FlowTest.flow(steps: steps))
        #expect(found.map(\.path) == [path], "\(found)")
        #expect(found.first?.message.contains(message) == true, "\(found)")
    }
}
