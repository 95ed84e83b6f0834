import KeelCore
import Testing

@Suite("Expression references")
struct ExpressionReferencesTests {
    typealias Step = ExpressionReferences.StepReference

    @Test("steps with their fields, output names and columns")
    func steps() throws {
        let expression = try Expression(
            parsing:
                "steps.patch.outputs.diff != null && steps.test.status == 'succeeded' && "
                + "steps.review.decision == 'approve' && steps.patch.outputs['lines'] > 0 && "
                + "toJSON(steps.bench.outputs) != '' && steps.tset.status == 'failed' && steps.patch.outputs.diff"
        )
        #expect(
            expression.references.steps == [
                Step(stepID: "patch", field: .outputs(name: "diff"), column: 1),
                Step(stepID: "test", field: .status, column: 37),
                Step(stepID: "review", field: .decision, column: 73),
                Step(stepID: "patch", field: .outputs(name: "lines"), column: 111),
                Step(stepID: "bench", field: .outputs(name: nil), column: 154),
                Step(stepID: "tset", field: .status, column: 184),
            ])
        #expect(expression.references.stepIDs == ["patch", "test", "review", "bench", "tset"])
        #expect(expression.references.secrets.isEmpty)
    }

    @Test("a computed output name leaves the name unknown")
    func computedOutput() throws {
        let expression = try Expression(parsing: "steps['my-step'].outputs[input.key].x")
        #expect(
            expression.references.steps == [
                Step(stepID: "my-step", field: .outputs(name: nil), column: 1)
            ])
        #expect(expression.references.inputPaths == [[.key("key")]])
    }

    @Test("input paths stop at the first computed index")
    func inputPaths() throws {
        let expression = try Expression(
            parsing:
                "input.a.b[0]['c d'] == input && input.list[input.i].x == input.a.b[0]['c d'] || input.x[-1]"
        )
        #expect(
            Set(expression.references.inputPaths) == [
                [.key("a"), .key("b"), .index(0), .key("c d")], [], [.key("list")], [.key("i")],
                [.key("x")],
            ])
        #expect(expression.references.inputPaths.count == 5)
        #expect(
            expression.references.inputPaths[0].map(\.description).joined() == "['a']['b'][0]['c d']")
    }

    @Test("secrets and run fields")
    func secretsAndRun() throws {
        let expression = try Expression(
            parsing:
                "format('{0}:{1}:{2}', secrets.TOKEN, secrets['OTHER KEY'], run.id) != run.actor && secrets.TOKEN && run.attempt"
        )
        #expect(expression.references.secrets == ["TOKEN", "OTHER KEY"])
        #expect(expression.references.runFields == [.id, .actor, .attempt])
        #expect(expression.references.steps.isEmpty)
        #expect(expression.references.inputPaths.isEmpty)
    }

    @Test("a literal expression references nothing")
    func literal() throws {
        #expect(
            try Expression(parsing: "'a' == 'b' || contains(fromJSON('[1]'), 1)").references.isEmpty)
    }

    @Test("a template merges its expressions' references, columns within the template")
    func template() throws {
        let template = try ExpressionTemplate(
            parsing:
                "${{ steps.patch.outputs.diff }} by ${{ run.actor }} with ${{ secrets.KEY }} for ${{ input.repo }} / ${{ steps.patch.outputs.diff }}"
        )
        #expect(
            template.references.steps == [Step(stepID: "patch", field: .outputs(name: "diff"), column: 5)]
        )
        #expect(template.references.runFields == [.actor])
        #expect(template.references.secrets == ["KEY"])
        #expect(template.references.inputPaths == [[.key("repo")]])
    }

    @Test("references are found without evaluating and without a secret resolver")
    func staticOnly() throws {
        let expression = try Expression(parsing: "secrets.NEVER_RESOLVED == steps.ghost.status")
        #expect(expression.references.secrets == ["NEVER_RESOLVED"])
        #expect(expression.references.stepIDs == ["ghost"])
    }
}
