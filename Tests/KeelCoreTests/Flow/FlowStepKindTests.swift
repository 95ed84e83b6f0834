import Testing

@testable import KeelCore

/// Each step kind's fields, defaults and checks.
@Suite("Flow step kinds")
struct FlowStepKindTests {
    private func step(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> StepDefinition
    {
        let flow = try FlowTest.parse(
            "flow: kinds\nsteps:\n  - id: a\n" + body, sourceLocation: sourceLocation)
        return try #require(flow.steps.first, sourceLocation: sourceLocation)
    }

    private func errors(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        FlowTest.errors("flow: kinds\nsteps:\n  - id: a\n" + body, sourceLocation: sourceLocation).map {
            "\($0.line):\($0.column) \($0.path): \($0.message)"
        }
    }

    @Test func runWithEverything() throws {
        let step = try step(
            """
                run:
                  command: [./x, 1.10, true, "${{ run.attempt }}"]
                  env: {PORT: 8080, NAME: keel}
                  working_dir: sub
                  stdin: hello
                  timeout: 1m
            """)
        #expect(
            step.kind
                == .run(
                    RunAction(
                        command: ["./x", "1.10", "true", "${{ run.attempt }}"],
                        env: ["PORT": "8080", "NAME": "keel"],
                        workingDirectory: "sub", stdin: "hello", timeout: FlowDuration(milliseconds: 60_000)))
        )
    }

    @Test func runChecks() {
        #expect(
            errors("    run: {command: [\"\"], env: {1BAD: x}}\n") == [
                "4:21 steps[0].run.command[0]: expected a program name; got an empty string",
                "4:32 steps[0].run.env.1BAD: expected a variable name matching ^[A-Za-z_][A-Za-z0-9_]*$; got '1BAD'",
            ])
        #expect(
            errors("    run: {command: []}\n") == ["4:20 steps[0].run.command: expected at least one element"]
        )
    }

    @Test func httpDefaultsAndChecks() throws {
        let step = try step("    http: {url: \"https://example.com/${{ input.x }}\"}\n")
        #expect(step.kind == .http(HTTPAction(url: "https://example.com/${{ input.x }}")))
        #expect(
            errors(
                "    http: {method: FETCH, url: ftp://x, success: [2xx, 299, 6xx], headers: {\"a b\": c}}\n")
                == [
                    "4:20 steps[0].http.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS; got 'FETCH'",
                    "4:32 steps[0].http.url: expected an absolute http:// or https:// URL; got 'ftp://x'",
                    "4:61 steps[0].http.success[2]: expected a status class 1xx…5xx or a status 100…599; got '6xx'",
                    "4:77 steps[0].http.headers[\"a b\"]: expected an HTTP header name; got 'a b'",
                ])
    }

    @Test func httpBodyTemplatesAreChecked() {
        #expect(
            errors("    http: {url: \"https://x\", body: {a: [1, {b: \"${{ steps.zz.status }}\"}]}}\n") == [
                "4:53 steps[0].http.body.a[1].b: expression refers to unknown step 'zz'"
            ])
    }

    @Test func sshWithWait() throws {
        let step = try step(
            """
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 2h, heartbeat: 5m}
            """)
        #expect(
            step.kind
                == .ssh(
                    SSHAction(
                        host: "gpu-1", command: ["./start.sh"],
                        wait: WaitCondition(
                            timeout: FlowDuration(milliseconds: 7_200_000),
                            heartbeat: FlowDuration(milliseconds: 300_000)))))
    }

    @Test func runWithWait() throws {
        let step = try step(
            """
                run: {command: [./trigger-ci.sh]}
                wait: {timeout: 2h}
            """)
        #expect(
            step.kind
                == .run(
                    RunAction(
                        command: ["./trigger-ci.sh"],
                        wait: WaitCondition(timeout: FlowDuration(milliseconds: 7_200_000))
                    )))
        #expect(step.waitCondition?.timeout == FlowDuration(milliseconds: 7_200_000))
    }

    @Test func waitWithApproval() throws {
        let gate = ApprovalGate(approvers: [.user("bob")], summary: "Stop early?")
        let wait = try step(
            """
                wait: {timeout: 1h}
                approval: {approvers: [bob], summary: "Stop early?"}
            """)
        #expect(
            wait.kind == .wait(WaitCondition(timeout: FlowDuration(milliseconds: 3_600_000), approval: gate)))
        #expect(wait.approvalGate == gate)
        let ssh = try step(
            """
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 1h}
                approval: {approvers: [bob], summary: "Stop early?"}
            """)
        #expect(
            ssh.kind
                == .ssh(
                    SSHAction(
                        host: "gpu-1", command: ["./start.sh"],
                        wait: WaitCondition(timeout: FlowDuration(milliseconds: 3_600_000), approval: gate))))
        #expect(ssh.approvalGate == gate)
    }

    @Test func approvalBesideWaitCannotRequestChanges() {
        let flow = """
            flow: kinds
            steps:
              - {id: patch, noop: {}}
              - id: a
                needs: [patch]
                wait: {timeout: 1h}
                approval: {approvers: [bob], request_changes: {step: patch}}
            """
        #expect(
            FlowTest.errors(flow).map { "\($0.line):\($0.column) \($0.path): \($0.message)" } == [
                "7:51 steps[1].approval.request_changes: expected no request_changes in an approval beside wait: "
                    + "the step ends on the callback or the decision; use a separate approval step to send the run back"
            ])
        #expect(
            errors("    run: {command: [./x]}\n    approval: {approvers: [bob]}\n") == [
                "5:5 steps[0]: expected exactly one of run, http, ssh, agent, approval, wait, noop, flow (run and ssh may add wait; wait may add approval); got run, approval"
            ])
        #expect(
            errors("    http: {url: https://x}\n    wait: {timeout: 1h}\n") == [
                "5:5 steps[0]: expected exactly one of run, http, ssh, agent, approval, wait, noop, flow (run and ssh may add wait; wait may add approval); got http, wait"
            ])
    }

    @Test func aWaitsApprovalDecisionMayBeRead() throws {
        let flow = try FlowTest.parse(
            """
            flow: kinds
            steps:
              - id: a
                ssh: {host: gpu-1, command: [./start.sh]}
                wait: {timeout: 1h}
                approval: {approvers: [bob]}
              - {id: b, needs: [a], if: "${{ steps.a.decision == 'approve' }}", noop: {}}
            """)
        #expect(flow.steps.count == 2)
        let decoded = try FlowDefinition(canonicalJSON: flow.jsonValue)
        #expect(decoded == flow)
        #expect(decoded.contentHash == flow.contentHash)
    }

    @Test func waitChecks() {
        let found = errors("    wait: {heartbeat: 2h, timeout: 1h, schema: {type: strin}}\n")
        #expect(found.count == 2)
        #expect(
            found.first
                == "4:23 steps[0].wait.heartbeat: expected a heartbeat interval shorter than the timeout 1h; got 2h"
        )
        #expect(
            found.last?.hasPrefix("4:55 steps[0].wait.schema.type: invalid JSON Schema: ") == true, "\(found)"
        )
        #expect(errors("    wait: {}\n") == ["4:11 steps[0].wait: missing required field 'timeout'"])
    }

    @Test func approvalDefaults() throws {
        let step = try step("    approval: {approvers: [\"group:ops\", alice]}\n")
        #expect(step.kind == .approval(ApprovalGate(approvers: [.user("alice"), .group("ops")])))
    }

    @Test func approvalChecks() {
        #expect(
            errors(
                "    approval: {approvers: [alice, alice, \"group:\"], on_timeout: approve, reminder: 2h, timeout: 1h}\n"
            ) == [
                "4:35 steps[0].approval.approvers[1]: expected each approver once; 'alice' is listed twice",
                "4:42 steps[0].approval.approvers[2]: expected a user name or group:NAME (letters, digits, . _ @ -); got 'group:'",
                "4:84 steps[0].approval.reminder: expected a reminder delay shorter than the timeout 1h; got 2h",
            ])
        #expect(
            errors("    approval: {approvers: [a], on_timeout: approve}\n") == [
                "4:44 steps[0].approval.on_timeout: expected a timeout for on_timeout to apply to"
            ])
        #expect(
            errors("    approval: {approvers: []}\n") == [
                "4:27 steps[0].approval.approvers: expected at least one element"
            ])
    }

    @Test func noopForms() throws {
        #expect(try step("    noop: {}\n").kind == .noop)
        #expect(try step("    noop: true\n").kind == .noop)
        #expect(try step("    noop:\n").kind == .noop)
        #expect(
            errors("    noop: false\n") == ["4:11 steps[0].noop: expected {} or true; got boolean 'false'"])
    }

    @Test func severalKindsStillReportTheirOwnErrors() {
        #expect(
            errors("    run: {command: []}\n    http: {}\n") == [
                "4:20 steps[0].run.command: expected at least one element",
                "5:5 steps[0]: expected exactly one of run, http, ssh, agent, approval, wait, noop, flow (run and ssh may add wait; wait may add approval); got run, http",
                "5:11 steps[0].http: missing required field 'url'",
            ])
    }

    @Test func outputs() throws {
        let step = try step(
            "    noop: {}\n    outputs: {a: inline, b: {resource: b.txt, type: text/plain}}\n")
        #expect(step.outputs == ["a": .inline, "b": .resource(name: "b.txt", mediaType: "text/plain")])
        #expect(
            errors("    noop: {}\n    outputs: {Bad: inline, c: {resource: c, type: text}, d: blob}\n") == [
                "5:15 steps[0].outputs.Bad: expected an output name matching ^[a-z][a-z0-9_-]{0,63}$; got 'Bad'",
                "5:51 steps[0].outputs.c.type: expected a media type like text/plain (type/subtype); got 'text'",
                "5:61 steps[0].outputs.d: expected 'inline' or a mapping {resource, type}; got string 'blob'",
            ])
    }

    @Test func runsOnAcceptsOneLabelOrASet() throws {
        #expect(try step("    noop: {}\n    runs_on: gpu\n").runsOn == ["gpu"])
        #expect(try step("    noop: {}\n    runs_on: [linux, gpu, linux]\n").runsOn == ["gpu", "linux"])
    }

    @Test func retryDefaults() throws {
        let retry = try #require(try step("    noop: {}\n    retry: {max_attempts: 4}\n").retry)
        #expect(retry == RetryPolicy(maxAttempts: 4))
        #expect(
            retry.backoff == .exponential && retry.initial == FlowDuration(milliseconds: 1_000)
                && retry.jitter)
        #expect(retry.on == [.transient, .timeout])
    }

    @Test func parametersBelongToTemplates() {
        let errors = FlowTest.errors(
            "flow: t\nparameters: {region: {type: string}}\nsteps: [{id: a, noop: {}}]\n")
        #expect(errors.map(\.path) == ["parameters"])
        #expect(errors.first?.code == .unknownField)
    }

    @Test func mergeKeysLetWrittenKeysWinAndXFieldsAreIgnored() throws {
        let yaml = """
            flow: merge
            x-base: &base {run: {command: [base]}, timeout: 1m}
            steps:
              - <<: *base
                id: a
                timeout: 2m
            """
        let flow = try FlowTest.parse(yaml)
        #expect(flow.steps[0].timeout == FlowDuration(milliseconds: 120_000))
        #expect(flow.steps[0].kind == .run(RunAction(command: ["base"])))
        #expect(!flow.canonicalJSON.contains("x-base"))
    }

    @Test func yaml12CoreSchemaScalars() throws {
        let flow = try FlowTest.parse(
            "flow: s\ninput: {const: [yes, no, on, off, True, ~, 0x1F, 0o17, 1e3, .5, -0.0, 007, '1']}\nsteps: [{id: a, noop: {}}]\n"
        )
        #expect(flow.input?["const"] == ["yes", "no", "on", "off", true, nil, 31, 15, 1000, 0.5, 0, 7, "1"])
    }
}
