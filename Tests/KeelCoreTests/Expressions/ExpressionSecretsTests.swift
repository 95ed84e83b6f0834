import KeelCore
import Synchronization
import Testing

@Suite("Expression secrets")
struct ExpressionSecretsTests {
    /// A resolver that counts its calls.
    final class CountingResolver: Sendable {
        let calls = Mutex<[String]>([])
        let values: [String: String]

        init(_ values: [String: String]) { self.values = values }

        func resolve(_ name: String) -> String? {
            calls.withLock { $0.append(name) }
            return values[name]
        }
    }

    private func context(_ resolver: CountingResolver) -> ExpressionContext {
        ExpressionContext(
            input: ExpressionFixture.input, steps: ExpressionFixture.steps, run: ExpressionFixture.run,
            secrets: { resolver.resolve($0) })
    }

    @Test("secrets are resolved only during evaluation, once per name")
    func lazyResolution() throws {
        let resolver = CountingResolver(["TOKEN": "s3cr3t-token"])
        let template = try ExpressionTemplate(
            parsing:
                "Bearer ${{ secrets.TOKEN }} ${{ secrets.TOKEN == 'x' }} ${{ false && secrets.OTHER }}")
        #expect(resolver.calls.withLock { $0 }.isEmpty)
        #expect(template.references.secrets == ["TOKEN", "OTHER"])
        var used: [String] = []
        let value = try template.evaluate(in: context(resolver), usedSecrets: &used)
        #expect(value == "Bearer s3cr3t-token false false")
        #expect(resolver.calls.withLock { $0 } == ["TOKEN"])
        #expect(used == ["s3cr3t-token"])
    }

    @Test("used secret values are collected for redaction, without duplicates or empty strings")
    func usedSecrets() throws {
        var used: [String] = ["already"]
        let expression = try Expression(
            parsing: "format('{0}{1}{2}{0}', secrets.TOKEN, secrets.EMPTY, fromJSON(secrets.JSON).k)")
        let value = try expression.evaluate(in: ExpressionFixture.context(), usedSecrets: &used)
        #expect(value == "s3cr3t-tokenvs3cr3t-token")
        #expect(used == ["already", "s3cr3t-token", #"{"k":"v"}"#])
        var again = used
        _ = try expression.evaluate(in: ExpressionFixture.context(), usedSecrets: &again)
        #expect(again == used)
    }

    @Test("secrets read before an error are still reported as used")
    func usedBeforeError() throws {
        var used: [String] = []
        let expression = try Expression(parsing: "secrets.TOKEN < 1")
        let error = #expect(throws: ExpressionError.self) {
            try expression.evaluate(in: ExpressionFixture.context(), usedSecrets: &used)
        }
        #expect(error?.kind == .typeMismatch)
        #expect(used == ["s3cr3t-token"])
        #expect(error.map { !"\($0)".contains("s3cr3t") } == true)
    }

    @Test("a missing secret is a runtime error naming only the secret")
    func missingSecret() throws {
        let expression = try Expression(parsing: "input.repo == secrets.DEPLOY_KEY")
        let error = try #require(ExpressionFixture.error("input.repo == secrets.DEPLOY_KEY"))
        #expect(error.kind == .missingSecret)
        #expect(error.description == "secret 'DEPLOY_KEY' is not available at column 15")
        #expect(error.text == "secrets.DEPLOY_KEY")
        #expect(expression.references.secrets == ["DEPLOY_KEY"])
    }

    @Test(
        "secret values never appear in error descriptions",
        arguments: [
            "secrets.TOKEN < 1",
            "1 > secrets.TOKEN",
            "fromJSON(secrets.TOKEN)",
            "format(secrets.TOKEN)",
            "format(secrets.BRACES, 1)",
            "contains(secrets.TOKEN, 1)",
            "join(secrets.TOKEN)",
            "startsWith(secrets.TOKEN, 1)",
            "toJSON(secrets.TOKEN) < 0",
            "format('{0}{0}{0}', secrets.LONG)",
            "fromJSON(secrets.ALMOST_JSON)",
        ])
    func neverInDescriptions(source: String) throws {
        let values = [
            "TOKEN": "{s3cr3t-token", "BRACES": "{1}{s3cr3t-token}",
            "LONG": String(repeating: "s3cr3t-token", count: 200_000),
            "ALMOST_JSON": #"{"s3cr3t-token": tru}"#,
        ]
        let context = ExpressionFixture.context(secrets: values)
        let error = try #require(ExpressionFixture.error(source, in: context))
        for text in ["\(error)", error.message, error.text, String(reflecting: error)] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
    }

    @Test("a context never calls the resolver when no secret is read")
    func noSecrets() throws {
        let resolver = CountingResolver([:])
        _ = try ExpressionTemplate(parsing: "${{ input.repo }} ${{ run.id }}").evaluate(in: context(resolver))
        #expect(resolver.calls.withLock { $0 }.isEmpty)
    }
}
