import KeelCore
import Testing

@testable import step_executor

/// Secrets come from `KEEL_SECRET_<NAME>` variables and reach templates, never anything else.
@Suite struct SecretSourceTests {
    @Test func readsOnlyPrefixedVariables() {
        let source = SecretSource(environment: [
            "KEEL_SECRET_DEPLOY_TOKEN": "t0ken", "KEEL_SECRET_": "nameless",
            "KEEL_DATABASE_URL": "postgres://x",
            "HOME": "/root",
        ])
        #expect(source.names == ["DEPLOY_TOKEN"])
        #expect(source.value(named: "DEPLOY_TOKEN") == "t0ken")
        #expect(source.resolver("DATABASE_URL") == nil)
    }

    @Test func theRendererResolvesSecretsAndRemembersTheValuesRead() throws {
        let context = ExpressionContext(run: RunContext(id: "r", flow: "f", version: 1, correlationID: "c"))
        var renderer = StepActionRenderer(
            context: context, secrets: SecretSource(values: ["A": "alpha-secret", "B": "beta-secret"]))
        #expect(try renderer.text("x ${{ secrets.A }} ${{ run.version }}", field: "f") == "x alpha-secret 1")
        #expect(renderer.usedSecrets == ["alpha-secret"])
        // Every secret of the executor is masked, read or not: a step may find one it was not given.
        #expect(renderer.redactor.redacting("alpha-secret beta-secret") == "*** ***")
        #expect(throws: StepRenderError.self) { try renderer.text("${{ secrets.C }}", field: "env.C") }
    }
}
