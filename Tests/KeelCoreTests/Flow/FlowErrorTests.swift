import Testing

@testable import KeelCore

/// Each kind of error, with its exact line, column and path.
@Suite("Flow errors")
struct FlowErrorTests {
    /// The single error the text produces.
    private func only(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> FlowError {
        let errors = FlowTest.errors(yaml, sourceLocation: sourceLocation)
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        return try #require(errors.first, sourceLocation: sourceLocation)
    }

    @Test func unknownFieldSuggestsTheClosestName() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                noop: {}
                retry: {max_attempts: 3, backof: fixed}
            """)
        #expect(error.code == .unknownField)
        #expect(error.line == 5 && error.column == 30)
        #expect(error.path == "steps[0].retry.backof")
        #expect(error.message == "unknown field 'backof'; did you mean 'backoff'?")
        #expect(
            error.description
                == "test.yaml:5:30: steps[0].retry.backof: unknown field 'backof'; did you mean 'backoff'?")
    }

    @Test func unknownFieldWithoutCloseNameListsTheFields() throws {
        let error = try only("flow: demo\nsteps: [{id: a, noop: {}, colour: red}]\n")
        #expect(error.code == .unknownField)
        #expect(error.line == 2 && error.column == 27)
        #expect(error.path == "steps[0].colour")
        #expect(error.message.hasPrefix("unknown field 'colour'; expected one of id, needs, if, run"))
    }

    @Test func wrongType() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                needs: a
                noop: {}
            """)
        #expect(error.code == .wrongType)
        #expect(error.line == 4 && error.column == 12)
        #expect(error.path == "steps[0].needs")
        #expect(error.message == "expected a list; got string 'a'")
    }

    @Test func missingRequiredField() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                run: {timeout: 5s}
            """)
        #expect(error.code == .missingField)
        #expect(error.line == 4 && error.column == 10)
        #expect(error.path == "steps[0].run")
        #expect(error.message == "missing required field 'command'")
    }

    @Test func missingFlowNameAndSteps() {
        let errors = FlowTest.errors("description: nothing here\n")
        #expect(errors.map(\.code) == [.missingField, .missingField])
        #expect(errors.map(\.message) == ["missing required field 'flow'", "missing required field 'steps'"])
        #expect(errors.allSatisfy { $0.line == 1 && $0.column == 1 && $0.path.isEmpty })
    }

    @Test func duplicateStepID() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: build
                noop: {}
              - id: build
                noop: {}
            """)
        #expect(error.code == .duplicateStepID)
        #expect(error.line == 5 && error.column == 9)
        #expect(error.path == "steps[1].id")
        #expect(error.message == "expected a unique step id; 'build' is already used by steps[0] at line 3")
    }

    @Test func needsNamesAMissingStep() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: build
                noop: {}
              - id: test
                needs: [biuld]
                noop: {}
            """)
        #expect(error.code == .unknownStep)
        #expect(error.line == 6 && error.column == 13)
        #expect(error.path == "steps[1].needs[0]")
        #expect(
            error.message
                == "expected the id of a step in this flow; there is no step 'biuld'; did you mean 'build'?")
    }

    @Test func stepWithoutKind() throws {
        let error = try only("flow: demo\nsteps:\n  - id: a\n    needs: []\n")
        #expect(error.code == .stepKind)
        #expect(error.line == 3 && error.column == 5)
        #expect(error.path == "steps[0]")
        #expect(
            error.message
                == "expected exactly one of run, http, ssh, agent, approval, wait, noop, flow (run and ssh may add wait; wait may add approval); got none"
        )
    }

    @Test func stepWithSeveralKinds() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                run: {command: [make]}
                http: {url: "https://example.com"}
            """)
        #expect(error.code == .stepKind)
        #expect(error.line == 5 && error.column == 5)
        #expect(error.message.hasSuffix("got run, http"))
    }

    @Test func waitMayOnlyJoinRunOrSSH() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                http: {url: "https://example.com"}
                wait: {timeout: 1h}
            """)
        #expect(error.code == .stepKind)
        #expect(error.message.hasSuffix("got http, wait"))
    }

    @Test func invalidEnumValue() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                noop: {}
                retry:
                  max_attempts: 3
                  backoff: linear
            """)
        #expect(error.code == .invalidValue)
        #expect(error.line == 7 && error.column == 16)
        #expect(error.path == "steps[0].retry.backoff")
        #expect(error.message == "expected one of fixed, exponential; got 'linear'")
    }

    @Test func invalidDuration() throws {
        let error = try only("flow: demo\ntimeout: 5 minutes\nsteps: [{id: a, noop: {}}]\n")
        #expect(error.code == .invalidDuration)
        #expect(error.line == 2 && error.column == 10)
        #expect(error.path == "timeout")
        #expect(
            error.message
                == "expected a duration like 500ms, 5s, 15m, 2h, 1d or 1h30m (at most 366d); got '5 minutes'")
    }

    @Test func durationMustBeAString() throws {
        let error = try only("flow: demo\ntimeout: 30\nsteps: [{id: a, noop: {}}]\n")
        #expect(error.code == .wrongType)
        #expect(error.message == "expected a duration like 500ms, 5s, 15m, 2h, 1d or 1h30m; got integer '30'")
    }

    @Test("a quoted number in an integer field is named by its text, not by its representation")
    func quotedNumberWhereAnIntegerBelongs() throws {
        let error = try only("flow: demo\nsteps: [{id: a, noop: {}, retry: {max_attempts: \"3\"}}]\n")
        #expect(error.code == .wrongType)
        #expect(error.message == "expected an integer; got string '3'")
    }

    @Test(
        "limits are enforced",
        arguments: [
            (
                "retry: {max_attempts: 0}", "steps[0].retry.max_attempts",
                "expected an integer 1 to 100; got 0"
            ),
            (
                "concurrency: {key: k, limit: 0}", "steps[0].concurrency.limit",
                "expected an integer 1 to 100000; got 0"
            ),
            ("timeout: 0s", "steps[0].timeout", "expected a duration greater than zero; got '0s'"),
            (
                "retry: {max_attempts: 2, initial: 1m, max: 10s}", "steps[0].retry.max",
                "expected at least the initial delay 1m; got 10s"
            ),
        ])
    func limits(field: String, path: String, message: String) throws {
        let error = try only("flow: demo\nsteps:\n  - id: a\n    noop: {}\n    \(field)\n")
        #expect(error.code == .invalidValue || error.code == .invalidDuration)
        #expect(error.line == 5)
        #expect(error.path == path)
        #expect(error.message == message)
    }

    @Test(
        "names are checked",
        arguments: [
            ("flow: Demo\nsteps: [{id: a, noop: {}}]", "flow", 1, 7),
            ("flow: -demo\nsteps: [{id: a, noop: {}}]", "flow", 1, 7),
            ("flow: demo\nsteps: [{id: 1a, noop: {}}]", "steps[0].id", 2, 14),
            ("flow: demo\nsteps: [{id: Build, noop: {}}]", "steps[0].id", 2, 14),
            ("flow: demo\nsteps: [{id: a.b, noop: {}}]", "steps[0].id", 2, 14),
        ])
    func invalidNames(yaml: String, path: String, line: Int, column: Int) throws {
        let error = try only(yaml)
        #expect(error.code == .invalidName)
        #expect(error.path == path)
        #expect(error.line == line && error.column == column)
    }

    @Test func namesAtTheirLengthLimits() throws {
        let longest = String(repeating: "a", count: 64)
        _ = try FlowTest.parse(
            "flow: \(String(repeating: "f", count: 128))\nsteps: [{id: \(longest), noop: {}}]\n")
        let error = try only("flow: demo\nsteps: [{id: \(longest)a, noop: {}}]\n")
        #expect(error.code == .invalidName)
    }

    @Test func inputSchemaThatDoesNotCompile() throws {
        let error = try only(
            """
            flow: demo
            input:
              type: object
              properties:
                name: {type: string, minLength: -1}
            steps: [{id: a, noop: {}}]
            """)
        #expect(error.code == .invalidSchema)
        #expect(error.line == 5 && error.column == 37)
        #expect(error.path == "input.properties.name.minLength")
        #expect(error.message.hasPrefix("invalid JSON Schema: "))
    }

    @Test func expressionThatDoesNotCompile() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: a
                run: {command: [echo, "${{ input.x + }}"]}
            """)
        #expect(error.code == .invalidExpression)
        #expect(error.line == 4)
        #expect(error.column == 40)  // the `+` inside the template
        #expect(error.path == "steps[0].run.command[1]")
        #expect(error.message.hasPrefix("invalid expression: "))
    }

    @Test func expressionReferringToAnUnknownStep() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: build
                noop: {}
              - id: deploy
                needs: [build]
                if: "${{ steps.biuld.status == 'succeeded' }}"
                noop: {}
            """)
        #expect(error.code == .unknownStep)
        #expect(error.line == 7)
        #expect(error.column == 14)
        #expect(error.path == "steps[1].if")
        #expect(error.message == "expression refers to unknown step 'biuld'; did you mean 'build'?")
    }

    @Test func expressionReferringToAStepNotAmongTheAncestors() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: build
                noop: {}
              - id: lint
                noop: {}
              - id: deploy
                needs: [build]
                run: {command: [deploy, "${{ steps.lint.outputs.report }}"]}
            """)
        #expect(error.code == .unknownStep)
        #expect(error.path == "steps[2].run.command[1]")
        #expect(
            error.message
                == "expression refers to step 'lint', which is not among the steps 'deploy' needs; add 'lint' to the needs of 'deploy'"
        )
    }

    @Test func expressionReadingAnUndeclaredOutput() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: build
                run: {command: [make]}
                outputs: {binary: {resource: app, type: application/octet-stream}}
              - id: ship
                needs: [build]
                run: {command: [ship, "${{ steps.build.outputs.binray }}"]}
            """)
        #expect(error.code == .invalidExpression)
        #expect(error.message.hasSuffix("did you mean 'binary'?"))
    }

    @Test func flowLevelTemplatesMayNotReadSteps() throws {
        let error = try only("flow: demo\nshard_key: \"${{ steps.a.status }}\"\nsteps: [{id: a, noop: {}}]\n")
        #expect(error.code == .invalidExpression)
        #expect(error.path == "shard_key")
    }

    @Test func yamlSyntaxErrorsCarryTheirPosition() throws {
        let error = try only("flow: demo\nsteps:\n  - id: a\n    run: {command: [make}\n")
        #expect(error.code == .yamlSyntax)
        #expect(error.line == 4 && error.column == 25)
        #expect(error.message.hasPrefix("invalid YAML: "))
    }

    @Test func duplicateMappingKeys() throws {
        let error = try only("flow: demo\nflow: other\nsteps: [{id: a, noop: {}}]\n")
        #expect(error.code == .duplicateKey)
        #expect(error.line == 2 && error.column == 1)
        #expect(error.message == "expected each key once; 'flow' is also at line 1")
    }

    @Test func customTagsAreRejected() throws {
        let error = try only("flow: demo\ndescription: !include other.md\nsteps: [{id: a, noop: {}}]\n")
        #expect(error.code == .unsupportedYAML)
        #expect(error.line == 2 && error.column == 14)
    }

    @Test func requestChangesMustTargetAnAncestor() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: patch
                noop: {}
              - id: other
                noop: {}
              - id: review
                needs: [patch]
                approval: {approvers: [alice], request_changes: {step: other}}
            """)
        #expect(error.code == .invalidValue)
        #expect(error.line == 9 && error.column == 60)
        #expect(error.path == "steps[2].approval.request_changes.step")
    }

    @Test func requiredApprovalsCannotExceedTheNamedUsers() throws {
        let error = try only(
            """
            flow: demo
            steps:
              - id: review
                approval: {approvers: [alice, bob], required_approvals: 3}
            """)
        #expect(error.code == .invalidValue)
        #expect(error.path == "steps[0].approval.required_approvals")
        #expect(error.message == "expected at most 2 (the number of approvers, no groups); got 3")
    }

    @Test func severalErrorsAreReportedTogetherInSourceOrder() {
        let errors = FlowTest.errors(
            """
            flow: Bad_Name
            descripton: x
            steps:
              - id: build
                run: {command: [make], timeout: 5 minutes}
                retry: {max_attempts: 0, backoff: linear}
                nedes: [x]
              - id: build
                needs: [biuld, test]
                noop: {}
              - id: test
                needs: [test]
                if: "${{ steps.nope.status }}"
                noop: {}
            """)
        let summary = errors.map { "\($0.line):\($0.column) \($0.code.rawValue) \($0.path)" }
        #expect(
            summary == [
                "1:7 invalid_name flow",
                "2:1 unknown_field descripton",
                "5:37 invalid_duration steps[0].run.timeout",
                "6:27 invalid_value steps[0].retry.max_attempts",
                "6:39 invalid_value steps[0].retry.backoff",
                "7:5 unknown_field steps[0].nedes",
                "8:9 duplicate_step_id steps[1].id",
                "9:13 unknown_step steps[1].needs[0]",
                "12:13 cycle steps[2].needs",
                "13:14 unknown_step steps[2].if",
            ])
        let description = FlowErrors(errors).description
        #expect(description.split(separator: "\n").count == 10)
        #expect(description.hasPrefix("test.yaml:1:7: flow: expected a flow name"))
    }
}

@Suite("Flow template error positions")
struct FlowTemplatePositionTests {
    @Test(
        "falls back to the scalar when the template is not written verbatim",
        arguments: [
            ("    run: {command: [echo, \"\\u0024{{ steps.zz.status }}\"]}\n", 4, 27),  // an escape
            ("    run:\n      command:\n        - |\n          ${{ steps.zz.status }}\n", 6, 11),  // a block scalar
        ])
    func fallback(body: String, line: Int, column: Int) throws {
        let errors = FlowTest.errors("flow: t\nsteps:\n  - id: a\n" + body)
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.message == "expression refers to unknown step 'zz'")
        #expect(error.line == line)
        #expect(error.column == column)
    }

    @Test(
        "points into plain, single- and double-quoted scalars",
        arguments: [
            ("    if: ${{ steps.zz.status }}\n", 13),
            ("    if: '${{ steps.zz.status }}'\n", 14),
            ("    if: \"${{ steps.zz.status }}\"\n", 14),
        ])
    func exact(body: String, column: Int) throws {
        let errors = FlowTest.errors("flow: t\nsteps:\n  - id: a\n    noop: {}\n" + body)
        let error = try #require(errors.first)
        #expect(error.line == 5)
        #expect(error.column == column)
    }
}

@Suite("Flow input references")
struct FlowInputReferenceTests {
    private let closed =
        "flow: t\ninput: {type: object, properties: {table: {type: string}}, additionalProperties: false}\n"

    @Test func closedSchemaRejectsUnknownInputNames() throws {
        let errors = FlowTest.errors(
            closed + "steps: [{id: a, run: {command: [fix, \"${{ input.tabel }}\"]}}]\n")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .invalidExpression)
        #expect(error.path == "steps[0].run.command[1]")
        #expect(error.message.hasSuffix("did you mean 'table'?"))
    }

    @Test func knownNamesAndOpenSchemasPass() throws {
        _ = try FlowTest.parse(closed + "steps: [{id: a, run: {command: [fix, \"${{ input.table }}\"]}}]\n")
        _ = try FlowTest.parse(
            "flow: t\ninput: {type: object}\nsteps: [{id: a, run: {command: [\"${{ input.any }}\"]}}]\n")
    }
}
