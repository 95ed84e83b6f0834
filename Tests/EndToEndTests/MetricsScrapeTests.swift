import Foundation
import KeelTestSupport
import Testing

/// Metrics end to end: known runs go through the real services, then their `/metrics`
/// pages are scraped, parsed, and the series the runs must have left are checked by exact count.
@Suite(.serialized) struct MetricsScrapeTests {
    /// `flaky` fails once (its marker file does not exist yet) and is retried; `doomed` fails, without a
    /// retry policy, when the input says so. Every non-zero exit is `transient`.
    static let flow = """
        flow: metrics-demo
        input:
          type: object
          required: [marker, mode]
          properties:
            marker: {type: string}
            mode: {type: string}
        steps:
          - id: flaky
            retry: {max_attempts: 3, initial: 200ms, backoff: fixed}
            run:
              command: [sh, -c, 'if [ ! -e "$0" ]; then touch "$0"; exit 3; fi', "${{ input.marker }}"]
          - id: doomed
            needs: [flaky]
            run:
              command: [sh, -c, 'echo "mode $0"; test "$0" != fail', "${{ input.mode }}"]
        """

    static let prefetch = 7

    /// A gate people settle in approval-service, then a step the executors run.
    static let approvalFlow = """
        flow: metrics-approval
        steps:
          - id: gate
            approval:
              approvers: [rui]
          - id: after
            needs: [gate]
            noop: {}
        """

    /// One scrape of every service of the stack, added up (each counts what it appended).
    static func scrape(_ stack: EngineStack) async throws -> (all: PrometheusScrape, each: [PrometheusScrape])
    {
        var pages: [PrometheusScrape] = []
        for process in [stack.intake] + stack.executors {
            let port = try #require(process.environment["KEEL_HTTP_PORT"])
            let page = try #require(await TestHTTP.get("http://127.0.0.1:\(port)/metrics"))
            try #require(page.status == 200, "\(process.name): \(page.body)")
            pages.append(try PrometheusScrape(parsing: page.body))
        }
        return (pages.reduce(PrometheusScrape(), +), pages)
    }

    @Test func theServicesCountRunsStepsRetriesFailuresAndTheirQueues() async throws {
        let stack = try await EngineStack(
            flows: [Self.flow], environment: ["KEEL_AMQP_PREFETCH": "\(Self.prefetch)"])
        let marker = stack.scratch.appendingPathComponent("marker").path
        try await stack.trigger("metrics-demo", input: #"{"marker": "\#(marker)", "mode": "pass"}"#)
        _ = try await stack.waitForFinishedRuns("metrics-demo", count: 1)
        try await stack.trigger("metrics-demo", input: #"{"marker": "\#(marker)", "mode": "fail"}"#)
        let runs = try await stack.waitForFinishedRuns("metrics-demo", count: 2)
        #expect(runs.values.sorted() == ["failed", "succeeded"], "\(stack.logs)")
        // A trigger for a flow that does not exist is dead-lettered by trigger-intake.
        try await stack.trigger("no-such-flow")

        // Metrics are recorded just after the commits the runs' statuses show, and the outbox gauge at
        // the relay's next pass: scrape until they have caught up (bounded far beyond what that takes).
        let run = ["flow": "metrics-demo", "release": "1"]
        var scraped = try await Self.scrape(stack)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let caughtUp =
                scraped.all.sum("keel_runs_finished_total", run) == 2
                && scraped.all.sum("keel_dead_letters_total") == 1
                && scraped.all.sum("keel_consumer_in_flight") == 0
                && scraped.all.sum("keel_outbox_backlog") == 0
                && scraped.all.sum("keel_dead_letter_queue_messages", ["queue": "keel.dead.keel.triggers"])
                    == 1
            if caughtUp { break }
            try await Task.sleep(for: .milliseconds(200))
            scraped = try await Self.scrape(stack)
        }
        let all = scraped.all

        #expect(all.sum("keel_runs_started_total", run) == 2)
        #expect(all.sum("keel_runs_started_total") == 2)
        #expect(all.sum("keel_runs_finished_total", run.merging(["outcome": "succeeded"]) { a, _ in a }) == 1)
        #expect(all.sum("keel_runs_finished_total", run.merging(["outcome": "failed"]) { a, _ in a }) == 1)

        // flaky ran three attempts (two in the first run), doomed two; each was queued once.
        for (step, attempts) in [("flaky", 3.0), ("doomed", 2.0)] {
            let labels = run.merging(["step": step, "kind": "run"]) { a, _ in a }
            #expect(all.sum("keel_step_duration_seconds_count", labels) == attempts, "\(step)")
            #expect(all.sum("keel_step_queue_seconds_count", labels) == attempts, "\(step)")
            // Every attempt falls in the +Inf bucket, and a shell step takes more than nothing.
            #expect(
                all.sum("keel_step_duration_seconds_bucket", labels.merging(["le": "+Inf"]) { a, _ in a })
                    == attempts)
            #expect(all.sum("keel_step_duration_seconds_sum", labels) > 0)
        }
        #expect(all.types["keel_step_duration_seconds"] == "histogram")
        #expect(all.types["keel_step_queue_seconds"] == "histogram")

        let retries = all.samples("keel_step_retries_total")
        #expect(
            retries.map(\.labels) == [
                run.merging(["step": "flaky", "error_class": "transient"]) { a, _ in a }
            ])
        #expect(retries.map(\.value) == [1])
        let failures = all.samples("keel_step_failures_total")
        #expect(
            failures.map(\.labels) == [
                run.merging(["step": "doomed", "error_class": "transient"]) { a, _ in a }
            ])
        #expect(failures.map(\.value) == [1])

        // Each consumer's queue: nothing in flight any more, against the prefetch it was given.
        let prefetches = all.samples("keel_consumer_prefetch")
        let queues = Set(prefetches.compactMap { $0.labels["queue"] })
        #expect(queues.contains("keel.triggers"))
        #expect(queues.contains { $0.hasPrefix("keel.steps.") })
        #expect(prefetches.allSatisfy { $0.value == Double(Self.prefetch) }, "\(prefetches)")
        #expect(Set(all.samples("keel_consumer_in_flight").compactMap { $0.labels["queue"] }) == queues)
        #expect(all.sum("keel_consumer_in_flight") == 0)

        // Every relay sees the whole outbox: all published.
        for page in scraped.each {
            #expect(page.samples("keel_outbox_backlog").map(\.value) == [0])
            #expect(page.types["keel_outbox_lag_seconds"] == "histogram")
        }
        #expect(all.sum("keel_outbox_published_total") > 0)
        #expect(all.sum("keel_outbox_lag_seconds_count") > 0)

        // The executor stored each attempt's stdout and stderr.
        #expect(all.sum("keel_resource_bytes_stored_total") > 0)
        #expect(
            all.samples("keel_dead_letters_total").map(\.labels) == [
                ["queue": "keel.triggers", "reason": "unknown_flow"]
            ])
        #expect(all.sum("keel_dead_letters_total") == 1)
        // ... and it waits in keel.dead.keel.triggers, as the broker reports (read every 15 s); the step
        // queues' dead letters are empty.
        let waiting = all.samples("keel_dead_letter_queue_messages")
        #expect(waiting.filter { $0.value > 0 }.map { $0.labels["queue"] } == ["keel.dead.keel.triggers"])
        #expect(waiting.contains { $0.labels["queue"]?.hasPrefix("keel.dead.keel.steps.") == true })
        #expect(all.sum("keel_redeliveries_total") == 0)
        try await stack.stop()
    }

    @Test func aDecisionIsCountedByTheApprovalServiceThatAppendedIt() async throws {
        let stack = try await EngineStack(flows: [Self.approvalFlow])
        let client = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
        let rui = try await stack.token("rui")
        try await stack.trigger("metrics-approval", key: "gated")
        let runID = try await stack.runID(key: "gated", flow: "metrics-approval")
        let approval = try await client.pending(run: runID, step: "gate", token: rui)
        let id = try #require(approval["id"] as? String)
        #expect(try await client.decide(id, "approve", token: rui).status == 200)
        #expect(try await stack.finish(runID, expected: "succeeded") == "succeeded")

        let run = ["flow": "metrics-approval", "release": "1"]
        let gate = run.merging(["step": "gate", "kind": "approval"]) { a, _ in a }
        var scraped = try await Self.scrape(stack)
        var service = try PrometheusScrape(
            parsing: try await TestHTTP.send("GET", client.url + "/metrics").body)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline
            && (scraped.all + service).sum("keel_runs_finished_total", run) != 1
        {
            try await Task.sleep(for: .milliseconds(200))
            scraped = try await Self.scrape(stack)
            service = try PrometheusScrape(
                parsing: try await TestHTTP.send("GET", client.url + "/metrics").body)
        }
        let all = scraped.all + service

        #expect(all.sum("keel_runs_started_total", run) == 1)
        #expect(all.sum("keel_runs_finished_total", run.merging(["outcome": "succeeded"]) { a, _ in a }) == 1)
        // The gate's attempt ended with the decision, which approval-service appended: it counted it.
        #expect(service.sum("keel_step_duration_seconds_count", gate) == 1)
        #expect(all.sum("keel_step_duration_seconds_count", gate) == 1)
        // No executor queued or ran it.
        #expect(all.sum("keel_step_queue_seconds_count", gate) == 0)
        let after = run.merging(["step": "after", "kind": "noop"]) { a, _ in a }
        #expect(all.sum("keel_step_queue_seconds_count", after) == 1)
        #expect(all.sum("keel_step_duration_seconds_count", after) == 1)
        #expect(service.types["keel_approval_turnaround_seconds"] == "histogram")
        #expect(service.sum("keel_approval_turnaround_seconds_count", ["flow": "metrics-approval"]) == 1)
        #expect(all.samples("keel_step_failures_total").isEmpty)
        #expect(all.samples("keel_step_retries_total").isEmpty)
        try await stack.stop()
    }
}
