import Testing

@testable import KeelCore

@Suite("Flow examples")
struct FlowExampleTests {
    @Test(
        "every example in Examples/ validates",
        arguments: FlowTest.exampleFiles)
    func exampleValidates(file: String) throws {
        let flow = try FlowTest.parse(try FlowTest.example(file))
        #expect(flow.name + ".yaml" == file)
        #expect(!flow.steps.isEmpty)
        // The canonical form reads back to the same definition.
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
    }

    @Test func safeCodeChangeModel() throws {
        let flow = try FlowTest.parse(try FlowTest.example("safe-code-change.yaml"))
        #expect(flow.steps.map(\.id) == ["patch", "test", "review", "bench", "apply"])
        #expect(flow.concurrency == ConcurrencyLimit(key: "${{ input.repo }}", limit: 1))
        #expect(flow.shardKey == "${{ input.repo }}")
        #expect(flow.timeout == FlowDuration(milliseconds: 2 * 86_400_000))
        let patch = try #require(flow.step("patch"))
        #expect(
            patch.kind
                == .run(
                    RunAction(
                        command: ["agent", "--task", "${{ input.task }}"], timeout: .init(parsing: "15m"))))
        #expect(
            patch.retry
                == RetryPolicy(
                    maxAttempts: 3, backoff: .exponential, initial: .init(milliseconds: 5_000),
                    on: [.transient]))
        #expect(patch.outputs == ["diff": .resource(name: "patch.diff", mediaType: "text/x-diff")])
        let review = try #require(flow.step("review"))
        guard case .approval(let gate) = review.kind else {
            Issue.record("review is not an approval")
            return
        }
        #expect(gate.approvers == [.group("reviewers")])
        #expect(gate.requiredApprovals == 1)
        #expect(gate.allowSelfApproval == false)
        #expect(gate.onTimeout == .reject)
        #expect(gate.timeout == FlowDuration(parsing: "24h"))
        #expect(gate.requestChanges == RequestChanges(step: "patch", maxRounds: 2))
        let bench = try #require(flow.step("bench"))
        guard case .ssh(let ssh) = bench.kind else {
            Issue.record("bench is not an ssh step")
            return
        }
        #expect(ssh.host == "gpu-1")
        #expect(ssh.wait?.timeout == FlowDuration(parsing: "2h"))
        #expect(ssh.wait?.heartbeat == FlowDuration(parsing: "5m"))
        #expect(ssh.wait?.schema == ["type": "object", "required": ["p50_ms"]])
        #expect(flow.step("apply")?.condition == "${{ steps.bench.status == 'succeeded' }}")
        #expect(flow.ancestors(of: "apply") == ["patch", "test", "review", "bench"])
    }

    @Test func bulkDataFixMapsItsShardsFromThePlan() throws {
        let flow = try FlowTest.parse(try FlowTest.example("bulk-data-fix.yaml"))
        let apply = try #require(flow.step("apply"))
        #expect(apply.map == StepMap(over: "${{ steps.plan.outputs.shards }}", maxConcurrency: 4))
        #expect(apply.needs == ["approve"])
        #expect(apply.runsOn == ["db-tools"])
        #expect(apply.queueTimeout == FlowDuration(parsing: "30m"))
        #expect(apply.retry?.maxAttempts == 5)
        #expect(apply.retry?.maximum == FlowDuration(parsing: "5m"))
        guard case .run(let run) = apply.kind else {
            Issue.record("apply is not a run step")
            return
        }
        #expect(run.command.last == "${{ map.item }}")
        #expect(flow.topologicalOrder.map(\.id) == ["plan", "approve", "apply", "verify", "notify"])
        guard case .http(let http) = flow.step("notify")?.kind else {
            Issue.record("notify is not an http step")
            return
        }
        #expect(http.method == "POST")
        #expect(http.success == [.statusClass(2)])
        #expect(http.body?["text"] == "Fix ${{ input.fix }} applied to ${{ input.table }}")
    }

    @Test func schemaChangeRunsTheBulkDataFixAsAChild() throws {
        let flow = try FlowTest.parse(try FlowTest.example("schema-change.yaml"))
        guard case .subflow(let action) = flow.step("backfill")?.kind else {
            Issue.record("backfill is not a flow step")
            return
        }
        #expect(action.flow == "bulk-data-fix")
        #expect(action.input == ["table": "${{ input.table }}", "fix": "backfill-${{ input.migration }}"])
        #expect(flow.step("backfill")?.timeout == FlowDuration(parsing: "2d"))
        // The child's own input schema takes exactly what the step sends.
        let child = try FlowTest.parse(try FlowTest.example("bulk-data-fix.yaml"))
        let schema = try JSONSchema(try #require(child.input))
        #expect(schema.validate(["table": "users", "fix": "backfill-0042_add_email"]).isEmpty)
    }

    @Test func gpuBenchmarkWaitsForACallback() throws {
        let flow = try FlowTest.parse(try FlowTest.example("gpu-benchmark.yaml"))
        guard case .ssh(let ssh) = flow.step("bench")?.kind, let wait = ssh.wait else {
            Issue.record("bench is not an ssh step with wait")
            return
        }
        #expect(ssh.command.last == "1000")
        #expect(ssh.env == ["KEEL_BENCH": "1"])
        #expect(wait.timeout == FlowDuration(parsing: "4h"))
        #expect(wait.heartbeat == FlowDuration(parsing: "5m"))
        #expect(flow.step("report")?.condition?.contains("'succeeded'") == true)
        #expect(flow.step("report-partial")?.condition?.contains("'partial'") == true)
        #expect(flow.step("triage")?.condition?.contains("'failed'") == true)
        guard case .run(let build) = flow.step("build")?.kind else {
            Issue.record("build is not a run step")
            return
        }
        #expect(build.env == ["CUDA_VISIBLE_DEVICES": "0", "BUILD_MODE": "release"])
        #expect(build.workingDirectory == "./model")
    }
}

@Suite("Example list")
struct ExampleListTests {
    @Test func theExamplesAreFound() {
        #expect(FlowTest.exampleFiles.count >= 4)
        #expect(FlowTest.exampleFiles.contains("smoke-check.yaml"))
    }
}
