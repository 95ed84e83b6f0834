import Foundation
import Testing

@testable import KeelCore

@Suite("Flow templates")
struct FlowTemplateTests {
    static let template = """
        # A fix in one repository, reviewed by a team.
        template: repo-fix
        description: Patch, test and review a change in one repository.
        parameters:
          repo: {type: string, pattern: "^[a-z0-9-]+/[a-z0-9-]+$", examples: [acme/api]}
          reviewers: {type: string, default: reviewers}
          attempts: {type: integer, minimum: 1, maximum: 5, default: 3}
          patch_timeout: {type: string, default: 15m}
        input:
          type: object
          required: [task]
          properties: {task: {type: string}}
        steps:
          - id: patch
            run:
              command: [agent, --repo, "${{ params.repo }}", --task, "${{ input.task }}"]
              env: {LABEL: "fix for ${{ params.repo }} ($${{ literal }})"}
            timeout: ${{ params.patch_timeout }}
            retry: {max_attempts: "${{ params.attempts }}"}
          - id: review
            needs: [patch]
            approval: {approvers: ["group:${{ params.reviewers }}"]}
        """

    static func parse(_ yaml: String = template) throws -> FlowTemplate {
        do {
            return try FlowTemplate.parse(yaml: yaml, file: "repo-fix.yaml")
        } catch {
            Issue.record("unexpected errors:\n\(error)")
            throw error
        }
    }

    static func errors(_ yaml: String) -> [FlowError] {
        do {
            _ = try FlowTemplate.parse(yaml: yaml, file: "t.yaml")
            Issue.record("expected errors, but the template parsed")
            return []
        } catch {
            return error.errors
        }
    }

    @Test func readsNameParametersAndProbes() throws {
        let template = try Self.parse()
        #expect(template.name == "repo-fix")
        #expect(template.parameters.map(\.name) == ["repo", "reviewers", "attempts", "patch_timeout"])
        #expect(template.parameters[0].defaultValue == nil)
        #expect(template.parameters[0].probe == "acme/api")
        #expect(template.parameters[2].defaultValue == 3)
        #expect(template.contentHash.count == 64)
    }

    @Test func instantiatesAnOrdinaryFlowWithTypedValues() throws {
        let created = try Self.parse().instantiate(
            flow: "fix-billing", values: ["repo": "acme/billing", "attempts": 2])
        let flow = created.definition
        #expect(flow.name == "fix-billing")
        #expect(
            created.values == [
                "repo": "acme/billing", "reviewers": "reviewers", "attempts": 2, "patch_timeout": "15m",
            ])
        let patch = try #require(flow.step("patch"))
        guard case .run(let action) = patch.kind else {
            Issue.record("patch is not a run step")
            return
        }
        #expect(action.command == ["agent", "--repo", "acme/billing", "--task", "${{ input.task }}"])
        #expect(action.env["LABEL"] == "fix for acme/billing ($${{ literal }})")
        #expect(patch.retry?.maxAttempts == 2)
        #expect(patch.timeout == FlowDuration(milliseconds: 15 * 60_000))
        guard case .approval(let gate) = try #require(flow.step("review")).kind else {
            Issue.record("review is not an approval step")
            return
        }
        #expect(gate.approvers == [.group("reviewers")])
        // The YAML source reads back to the very same flow, and names no parameters.
        #expect(try FlowParser.parse(yaml: created.yaml, file: "x.yaml") == flow)
        #expect(!created.yaml.contains("params"))
        #expect(!created.yaml.contains("parameters"))
    }

    @Test func parameterValuesCannotInjectExpressions() throws {
        let template = try Self.parse(
            """
            template: t
            parameters: {label: {type: string, default: plain}}
            steps:
              - id: a
                run: {command: [echo, "${{ params.label }}", "label: ${{ params.label }}"]}
            """)
        let created = try template.instantiate(flow: "f", values: ["label": "${{ secrets.TOKEN }}"])
        guard case .run(let action) = try #require(created.definition.step("a")).kind else {
            Issue.record("a is not a run step")
            return
        }
        // `$${{` is the flow language's escape: the step prints the text, never the secret.
        #expect(action.command == ["echo", "$${{ secrets.TOKEN }}", "label: $${{ secrets.TOKEN }}"])
    }

    @Test func valuesAreCheckedAgainstTheirSchemas() throws {
        let template = try Self.parse()
        do {
            _ = try template.instantiate(
                flow: "f", values: ["repo": "Not A Repo", "attempts": 9, "colour": "red"])
            Issue.record("expected errors")
        } catch {
            #expect(error.map(\.path) == ["parameters.colour", "parameters.repo", "parameters.attempts"])
            #expect(
                error.errors[0].message
                    == "unknown parameter 'colour'; the template declares repo, reviewers, attempts, patch_timeout"
            )
            #expect(error.errors[1].code == .invalidValue)
            #expect(error.errors[2].message.contains("maximum"))
        }
        do {
            _ = try template.instantiate(flow: "f", values: [:])
            Issue.record("expected errors")
        } catch {
            #expect(error.map(\.message) == ["expected a value for parameter 'repo' (it has no default)"])
        }
    }

    @Test func aValueThatBreaksTheFlowIsReportedAtThePlaceholder() throws {
        let template = try Self.parse()
        do {
            _ = try template.instantiate(flow: "f", values: ["repo": "acme/api", "patch_timeout": "soon"])
            Issue.record("expected errors")
        } catch {
            #expect(error.map(\.path) == ["steps[0].timeout"])
            #expect(error.errors.first?.line == 18)
            #expect(error.errors.first?.code == .invalidDuration)
        }
    }

    @Test func publishingChecksPlaceholdersAndTheDefaultFlow() {
        let errors = Self.errors(
            """
            template: t
            parameters:
              used: {type: string, default: x}
              unused: {type: string, default: y}
              bare: {type: string}
              bad_default: {type: integer, default: "three"}
            steps:
              - id: a
                run: {command: ["${{ params.used }}", "${{ params.usde }}", "${{ params.bad_default }}", "${{ params.bare }}"]}
                timeout: ${{ params.used }}
            """)
        #expect(
            errors.map { "\($0.line):\($0.path): \($0.message)" } == [
                "4:parameters.unused: parameter 'unused' is declared but no '${{ params.unused }}' uses it",
                "5:parameters.bare: expected a 'default' or 'examples' so the template can be checked when it is published",
                "6:parameters.bad_default.default: expected a value the parameter's own schema accepts; value: expected integer, got string (schema \"/type\")",
                "9:steps[0].run.command[1]: unknown parameter 'usde'; did you mean 'used'?",
            ])
    }

    @Test func theDefaultFlowMustBeValid() {
        let errors = Self.errors(
            """
            template: t
            parameters:
              wait: {type: string, default: never}
            steps:
              - id: a
                noop: {}
                timeout: ${{ params.wait }}
            """)
        #expect(errors.map(\.path) == ["steps[0].timeout"])
        #expect(errors.first?.line == 7)
    }

    @Test func aTemplateIsNotAFlow() {
        let errors = Self.errors("flow: f\nparameters: {}\nsteps: [{id: a, noop: {}}]\n")
        #expect(errors.map(\.path) == ["flow", ""])
        #expect(errors.first?.message.contains("'template'") == true)
    }

    @Test func layoutAndCommentsDoNotChangeTheHash() throws {
        let reformatted = try Self.parse(
            "# reformatted\n"
                + Self.template.replacingOccurrences(
                    of: "retry: {max_attempts: \"${{ params.attempts }}\"}",
                    with: "retry:\n      max_attempts: '${{ params.attempts }}'  # from the parameter"))
        #expect(try Self.parse().contentHash == reformatted.contentHash)
        let changed = try Self.parse(Self.template.replacingOccurrences(of: "default: 3", with: "default: 4"))
        #expect(try Self.parse().contentHash != changed.contentHash)
    }
}

@Suite("Example templates")
struct ExampleTemplateTests {
    @Test func reviewedChangeIsValidAndMakesTheDocumentedFlow() throws {
        let text = try String(
            contentsOf: FlowTest.packageRoot.appendingPathComponent(
                "Examples/templates/reviewed-change.yaml"),
            encoding: .utf8)
        let template = try FlowTemplate.parse(yaml: text, file: "reviewed-change.yaml")
        let created = try template.instantiate(
            flow: "payments-change",
            values: ["reviewers": "payments", "test_command": ["make", "test-payments"]])
        guard case .run(let test) = try #require(created.definition.step("test")).kind else {
            Issue.record("test is not a run step")
            return
        }
        #expect(test.command == ["make", "test-payments"])
        guard case .approval(let gate) = try #require(created.definition.step("review")).kind else {
            Issue.record("review is not an approval step")
            return
        }
        #expect(gate.approvers == [.group("payments")])
        #expect(gate.timeout == FlowDuration(milliseconds: 24 * 3_600_000))
    }
}

@Suite("Flow secrets")
struct FlowSecretNamesTests {
    @Test func listsEverySecretReadOnceSorted() throws {
        let flow = try FlowTest.parse(
            """
            flow: s
            steps:
              - id: call
                http: {url: "https://x.example/", headers: {Authorization: "Bearer ${{ secrets.API_TOKEN }}"}}
              - id: run
                run: {command: [deploy, "${{ secrets.API_TOKEN }}"], env: {DB: "${{ secrets.DB_PASSWORD }}"}}
                if: "${{ input.go && secrets.FLAG == 'on' }}"
              - id: literal
                run: {command: [echo, "$${{ secrets.NOT_READ }}"]}
            """)
        #expect(flow.secretNames == ["API_TOKEN", "DB_PASSWORD", "FLAG"])
    }
}
