import AMQPClient
import Foundation
import KeelBus
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

/// `keel run show`, `cancel`, `retry` and `start --wait` as users and agents run them: the real CLI
/// against the real trigger-intake, PostgreSQL and RabbitMQ. No step-executor runs here, so a run stays
/// at its first step, scheduled; runs that execute are covered with the engine's services.
@Suite(.serialized) struct RunCLITests: KeelCLITesting {
    static let flow = """
        flow: cli-demo
        input:
          type: object
          required: [task]
          properties:
            task: {type: string, maxLength: 40}
        steps:
          - id: build
            noop: {}
          - id: deploy
            needs: [build]
            noop: {}
        """

    /// A database with the demo flow released and trigger-intake running on it and a virtual host.
    struct Stack {
        let database: TestDatabase
        let pool: PGPool
        let vhost: TestVirtualHost
        let service: ServiceProcess

        var environment: [String: String] {
            ["KEEL_AMQP_URL": vhost.url, "KEEL_DATABASE_URL": database.url]
        }

        func stop() async throws {
            let status = await service.stop()
            #expect(status == 0, "trigger-intake did not stop cleanly:\n\(service.output)")
            await pool.close()
            try await vhost.delete()
            try await database.drop()
        }
    }

    func startStack() async throws -> Stack {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        let file = try temporaryFile(Self.flow)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try await keel(["flow", "push", file], database: database).status == 0)
        #expect(try await keel(["flow", "release", "cli-demo"], database: database).status == 0)
        let vhost = try await TestVirtualHost.create()
        let port = TestHTTP.freePort()
        let service = try ServiceProcess(
            "trigger-intake",
            environment: [
                "KEEL_DATABASE_URL": database.url, "KEEL_AMQP_URL": vhost.url, "KEEL_HTTP_PORT": "\(port)",
            ])
        let ready = await TestHTTP.waitFor("http://127.0.0.1:\(port)/health/ready", status: 200)
        try #require(ready?.status == 200, "trigger-intake not ready:\n\(service.output)")
        // Ready means its connections are up; the CLI publishes with `mandatory`, so also wait until the
        // service has declared and bound keel.triggers (a loaded machine can take seconds between the two).
        for _ in 0..<1200 where !service.output.contains("msg=consuming") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(
            service.output.contains("msg=consuming"), "trigger-intake never consumed:\n\(service.output)")
        return Stack(database: database, pool: try database.pool(size: 2), vhost: vhost, service: service)
    }

    /// Starts a run through the CLI; returns its id.
    func startRun(_ stack: Stack, task: String = "fix the login bug") async throws -> String {
        let started = try await keel(
            ["run", "start", "cli-demo", "--input", #"{"task": "\#(task)"}"#, "--json"],
            environment: stack.environment)
        try #require(started.status == 0, "\(stack.service.output)")
        return try #require((started.json as? [String: Any])?["run_id"] as? String)
    }

    @Test func runShowPrintsTheTimelineOfATriggeredRun() async throws {
        let stack = try await startStack()
        let runID = try await startRun(stack)

        let shown = try await keel(["run", "show", runID, "--json"], database: stack.database)
        #expect(shown.status == 0)
        let run = try #require(shown.json as? [String: Any])
        #expect(run["runID"] as? String == runID)
        #expect(run["flow"] as? String == "cli-demo")
        #expect(run["version"] as? Int == 1)
        #expect(run["status"] as? String == "running")
        #expect(run["pass"] as? Int == 1)
        #expect(run["outcome"] is NSNull && run["finishedAt"] is NSNull && run["durationMs"] is NSNull)
        #expect(run["cancellation"] is NSNull)
        #expect((run["retries"] as? [Any])?.isEmpty == true)
        let triggeredAt = try #require(run["triggeredAt"] as? String)
        #expect(triggeredAt.hasSuffix("Z") && triggeredAt.count == 24)
        let trigger = try #require(run["trigger"] as? [String: Any])
        #expect(trigger["actor"] as? String == "e2e-tester")
        #expect((trigger["correlationID"] as? String)?.isEmpty == false)
        #expect((trigger["input"] as? [String: Any])?["task"] as? String == "fix the login bug")
        #expect(trigger["inputSummary"] as? String == #"{"task":"fix the login bug"}"#)
        let steps = try #require(run["steps"] as? [[String: Any]])
        #expect(steps.map { $0["id"] as? String } == ["build", "deploy"])
        #expect(steps.map { $0["kind"] as? String } == ["noop", "noop"])
        #expect(steps.map { $0["status"] as? String } == ["scheduled", "pending"])
        #expect(steps.last?["needs"] as? [String] == ["build"])
        let attempts = try #require(steps.first?["attempts"] as? [[String: Any]])
        #expect(attempts.count == 1)
        let attempt = try #require(attempts.first)
        #expect(attempt["attempt"] as? Int == 1 && attempt["pass"] as? Int == 1)
        #expect(attempt["scheduledAt"] as? String == run["triggeredAt"] as? String)
        #expect(
            attempt["startedAt"] is NSNull && attempt["outcome"] is NSNull && attempt["queueMs"] is NSNull)
        #expect((steps.last?["attempts"] as? [Any])?.isEmpty == true)

        let text = try await ServiceProcess.run(
            "keel", arguments: ["run", "show", runID], environment: ["KEEL_DATABASE_URL": stack.database.url])
        #expect(text.status == 0)
        for line in [
            "run:         \(runID)", "flow:        cli-demo v1", "status:      running",
            "actor:       e2e-tester (claimed)", #"input:       {"task":"fix the login bug"}"#,
            // keel run start publishes with the user-id of the account it connects as.
            "requester:   amqp:keel",
            "created:     \(triggeredAt)", "build (noop): scheduled", "  #1  scheduled +0.000s",
            "      in flight",
            "deploy (noop): pending", "  needs: build",
        ] {
            #expect(text.output.contains(line), "no '\(line)' in:\n\(text.output)")
        }
        #expect(!text.output.contains("finished:"))

        let picture = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(runID).svg")
        let drawn = try await keel(
            ["run", "show", runID, "--json", "--svg", picture.path], database: stack.database)
        #expect(drawn.status == 0 && (drawn.json as? [String: Any])?["runID"] as? String == runID)
        let svg = try await BlockingIO.run { try String(contentsOf: picture, encoding: .utf8) }
        try? await BlockingIO.run { try FileManager.default.removeItem(at: picture) }
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains(#"data-step="build" data-attempt="1" data-outcome="in_progress""#))
        #expect(!svg.contains(#"data-step="deploy""#), "deploy has no attempt yet")

        for unknown in ["00000000-0000-7000-8000-000000000000", "not-a-run-id"] {
            let missing = try await keel(["run", "show", unknown, "--json"], database: stack.database)
            #expect(missing.status == 1)
            let error = try #require(missing.json as? [String: Any])
            #expect(error["kind"] as? String == "user")
            #expect(error["error"] as? String == "no run with id '\(unknown)'")
        }
        let plain = try await ServiceProcess.run(
            "keel", arguments: ["run", "show", "00000000-0000-7000-8000-000000000000"],
            environment: ["KEEL_DATABASE_URL": stack.database.url])
        #expect(plain.status == 1)
        #expect(plain.output.contains("keel: no run with id '00000000-0000-7000-8000-000000000000'"))
        try await stack.stop()
    }

    @Test func cancelAndRetryGoThroughTheEngineAndRefuseWhatDoesNotFit() async throws {
        let stack = try await startStack()
        let runID = try await startRun(stack)

        let unknownStep = try await keel(
            ["run", "retry", runID, "--from", "ship", "--json"], database: stack.database)
        #expect(unknownStep.status == 1)
        #expect(
            (unknownStep.json as? [String: Any])?["error"] as? String
                == "flow cli-demo v1 has no step 'ship' (its steps: build, deploy)")
        let unfinished = try await keel(
            ["run", "retry", runID, "--from", "build", "--json"], database: stack.database)
        #expect(unfinished.status == 1)
        #expect(
            ((unfinished.json as? [String: Any])?["error"] as? String)?.contains("has not finished") == true)
        let noReason = try await keel(
            ["run", "cancel", runID, "--reason", "  ", "--json"], database: stack.database)
        #expect(noReason.status == 1)
        let missingReason = try await keel(["run", "cancel", runID], database: stack.database)
        #expect(missingReason.status == 64)
        let unknownRun = try await keel(
            ["run", "cancel", "00000000-0000-7000-8000-000000000000", "--reason", "x", "--json"],
            database: stack.database)
        #expect(unknownRun.status == 1)
        #expect((unknownRun.json as? [String: Any])?["kind"] as? String == "user")
        // Nothing was added to the run by the refusals.
        let before = try await keel(["run", "history", runID, "--json"], database: stack.database)
        #expect((before.json as? [Any])?.count == 2)

        let cancelled = try await keel(
            ["run", "cancel", runID, "--reason", "wrong branch", "--json"], database: stack.database)
        #expect(cancelled.status == 0)
        let cancel = try #require(cancelled.json as? [String: Any])
        let fact = try #require(cancel["fact"] as? [String: Any])
        #expect(fact["kind"] as? String == "run.cancel_requested")
        #expect(fact["actor"] as? String == "e2e-tester" && fact["reason"] as? String == "wrong branch")
        #expect(
            (cancel["derived"] as? [[String: Any]])?.map { $0["kind"] as? String }
                == ["step.cancelled", "step.cancelled", "run.finished"])
        let afterCancel = try #require(cancel["run"] as? [String: Any])
        #expect(afterCancel["status"] as? String == "cancelled")
        #expect(afterCancel["reason"] as? String == "wrong branch")
        #expect((afterCancel["cancellation"] as? [String: Any])?["actor"] as? String == "e2e-tester")
        let listed = try await keel(["run", "list", "--json"], database: stack.database)
        #expect((listed.json as? [[String: Any]])?.first?["status"] as? String == "cancelled")

        let again = try await keel(
            ["run", "cancel", runID, "--reason", "again", "--json"], database: stack.database)
        #expect(again.status == 1)
        #expect(
            ((again.json as? [String: Any])?["error"] as? String)?.contains("already finished (cancelled)")
                == true)

        let retried = try await keel(
            ["run", "retry", runID, "--from", "build", "--actor", "dave", "--json"], database: stack.database)
        #expect(retried.status == 0)
        let retry = try #require(retried.json as? [String: Any])
        let retryFact = try #require(retry["fact"] as? [String: Any])
        #expect(retryFact["kind"] as? String == "run.retry_requested")
        #expect(retryFact["from_step"] as? String == "build" && retryFact["pass"] as? Int == 1)
        #expect(retryFact["actor"] as? String == "dave")
        let afterRetry = try #require(retry["run"] as? [String: Any])
        #expect(afterRetry["status"] as? String == "running" && afterRetry["pass"] as? Int == 2)
        let build = try #require((afterRetry["steps"] as? [[String: Any]])?.first)
        #expect(build["status"] as? String == "scheduled")
        let buildAttempts = try #require(build["attempts"] as? [[String: Any]])
        #expect(buildAttempts.map { $0["attempt"] as? Int } == [1, 2])
        #expect(buildAttempts.map { $0["outcome"] as? String } == ["cancelled", nil])

        let text = try await ServiceProcess.run(
            "keel", arguments: ["run", "show", runID], environment: ["KEEL_DATABASE_URL": stack.database.url])
        #expect(text.output.contains("status:      running (pass 2)"), "\(text.output)")
        #expect(text.output.contains("cancelled:   +"))
        #expect(text.output.contains(" by dave from build (pass 1 → 2)"))
        try await stack.stop()
    }

    @Test func startWaitReportsTheOutcomeFromTheReplyQueue() async throws {
        let stack = try await startStack()
        let waiting = try ServiceProcess(
            "keel",
            arguments: [
                "run", "start", "cli-demo", "--input", #"{"task": "wait for me"}"#, "--wait", "--timeout",
                "5m",
                "--json",
            ],
            environment: stack.environment.merging(["KEEL_ACTOR": "e2e-tester"]) { given, _ in given })
        // The engine is not running here: answer for it on the reply queue the trigger named.
        var row: PGRow?
        for _ in 0..<600 where row == nil {
            row = try await stack.pool.withConnection {
                try await $0.query("SELECT id, reply_to FROM runs").first
            }
            if row == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let created = try #require(row, "no run was created:\n\(waiting.output)")
        let (id, storedReplyTo) = try created.decode((UUID, String?).self)
        let runID = id.uuidString.lowercased()
        let replyTo = try #require(storedReplyTo)
        #expect(replyTo.hasPrefix("amq.gen-"), "a broker-named queue")

        let connection = try await AMQPConnection.connect(
            try AMQPConfiguration(url: stack.vhost.url), logger: Logger(label: "test"))
        let channel = try await connection.openChannel()
        for (type, outcome) in [("step.noise", "succeeded"), ("run.finished", "failed")] {
            let body = #"""
                {"type": "\#(type)", "run_id": "\#(runID)", "flow": "cli-demo", "version": 1, "outcome": "\#(outcome)", "reason": "a step failed"}
                """#
            try await channel.publish(
                Array(body.utf8), exchange: "", routingKey: replyTo,
                properties: AMQPProperties(
                    contentType: "application/json",
                    headers: ["keel-schema": "1", "keel-type": .string(type)]))
        }
        for _ in 0..<1200 where waiting.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let status = await waiting.stop()
        #expect(status == 2, "a failed run exits 2:\n\(waiting.output)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(waiting.output.utf8)) as? [String: Any])
        #expect((report["accepted"] as? [String: Any])?["run_id"] as? String == runID)
        let finished = try #require(report["finished"] as? [String: Any])
        #expect(finished["outcome"] as? String == "failed")
        #expect(finished["reason"] as? String == "a step failed")
        #expect((report["run"] as? [String: Any])?["runID"] as? String == runID)
        try await channel.close()
        await connection.close()
        try await stack.stop()
    }

    @Test func startWaitGivesUpAfterItsTimeoutWithExitCode3() async throws {
        let stack = try await startStack()
        let result = try await keel(
            [
                "run", "start", "cli-demo", "--input", #"{"task": "nobody runs me"}"#, "--wait", "--timeout",
                "2s", "--json",
            ],
            environment: stack.environment)
        #expect(result.status == 3)
        let report = try #require(result.json as? [String: Any])
        #expect(report["finished"] is NSNull)
        let run = try #require(report["run"] as? [String: Any])
        #expect(run["status"] as? String == "running")
        #expect(run["runID"] as? String == (report["accepted"] as? [String: Any])?["run_id"] as? String)

        let rejected = try await keel(
            ["run", "start", "cli-demo", "--input", #"{"task": 7}"#, "--wait", "--json"],
            environment: stack.environment)
        #expect(rejected.status == 1)
        #expect((rejected.json as? [String: Any])?["type"] as? String == "trigger.rejected")
        let badTimeout = try await keel(
            ["run", "start", "cli-demo", "--wait", "--timeout", "soon", "--json"],
            environment: stack.environment)
        #expect(badTimeout.status == 1)
        #expect(
            ((badTimeout.json as? [String: Any])?["error"] as? String)?.hasPrefix("--timeout soon") == true)
        try await stack.stop()
    }

    static let executed = """
        flow: cli-engine
        input:
          type: object
          required: [marker]
          properties:
            marker: {type: string}
            fail: {type: boolean}
        steps:
          - id: flaky
            retry: {max_attempts: 2, initial: 100ms, backoff: fixed, jitter: false}
            run:
              command: [sh, -c, 'if [ ! -e "$0" ]; then touch "$0"; exit 3; fi; echo "{\\"report\\": \\"res:sha256:\(String(repeating: "cd", count: 32))\\"}" > "$KEEL_OUTPUT"', "${{ input.marker }}"]
          - id: last
            needs: [flaky]
            if: ${{ !input.fail }}
            noop: {}
          - id: broken
            needs: [flaky]
            if: ${{ input.fail }}
            run: {command: ["false"]}
        """

    @Test func startWaitFollowsARunTheEngineExecutesAndExitsByItsOutcome() async throws {
        let stack = try await EngineStack(flows: [Self.executed])
        let marker = stack.scratch.appendingPathComponent("marker").path
        let succeeded = try await keel(
            [
                "run", "start", "cli-engine", "--input", #"{"marker": "\#(marker)"}"#, "--wait", "--timeout",
                "5m", "--json",
            ],
            environment: stack.environment)
        #expect(succeeded.status == 0, "\(stack.logs)")
        let report = try #require(succeeded.json as? [String: Any])
        let finished = try #require(report["finished"] as? [String: Any])
        #expect(
            finished["type"] as? String == "run.finished" && finished["outcome"] as? String == "succeeded")
        let run = try #require(report["run"] as? [String: Any])
        #expect(run["status"] as? String == "succeeded" && run["durationMs"] is Int)
        let steps = try #require(run["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["succeeded", "succeeded", "skipped"])
        #expect(steps.last?["skipReason"] as? String == "if: condition is false")
        let attempts = try #require(steps.first?["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "succeeded"])
        #expect((attempts.first?["retry"] as? [String: Any])?["delay"] as? String == "100ms")
        for attempt in attempts {
            #expect(attempt["startedAt"] is String && attempt["executor"] is String)
            #expect((attempt["queueMs"] as? Int).map { $0 >= 0 } == true)
            #expect((attempt["durationMs"] as? Int).map { $0 >= 0 } == true)
        }
        // The step's own output, besides the logs the executor stores as resources.
        let resources = try #require(attempts.last?["resources"] as? [String])
        #expect(resources.contains("res:sha256:" + String(repeating: "cd", count: 32)), "\(resources)")

        let failed = try await ServiceProcess.run(
            "keel",
            arguments: [
                "run", "start", "cli-engine", "--input", #"{"marker": "\#(marker)", "fail": true}"#, "--wait",
                "--timeout", "5m",
            ],
            environment: stack.environment)
        #expect(failed.status == 2, "\(failed.output)")
        #expect(failed.output.contains("status:      failed"))
        #expect(failed.output.contains("broken (run): failed"))
        #expect(failed.output.contains("keel: run ") && failed.output.contains(" failed"))
        try await stack.stop()
    }

    static let slow = """
        flow: cli-slow
        steps:
          - id: sleepy
            run: {command: [sleep, "120"]}
          - id: after
            needs: [sleepy]
            noop: {}
        """

    @Test func cancellingARunningRunEndsTheWaitWithExitCode2() async throws {
        let stack = try await EngineStack(flows: [Self.slow])
        let waiting = try ServiceProcess(
            "keel", arguments: ["run", "start", "cli-slow", "--wait", "--timeout", "5m", "--json"],
            environment: stack.environment.merging(["KEEL_ACTOR": "e2e-tester"]) { given, _ in given })
        // Once the executor has started the step, cancel the run as an operator would.
        var runID: String?
        for _ in 0..<1200 where runID == nil {
            let listed = try await keel(["run", "list", "--json"], database: stack.database)
            if let id = (listed.json as? [[String: Any]])?.first?["id"] as? String {
                let shown = try await keel(["run", "show", id, "--json"], database: stack.database)
                let steps = (shown.json as? [String: Any])?["steps"] as? [[String: Any]]
                let attempt = (steps?.first?["attempts"] as? [[String: Any]])?.first
                if attempt?["startedAt"] is String { runID = id }
            }
            if runID == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let run = try #require(runID, "the step never started:\n\(stack.logs)\n\(waiting.output)")
        let cancelled = try await keel(
            ["run", "cancel", run, "--reason", "not needed", "--json"], database: stack.database)
        #expect(cancelled.status == 0, "\(cancelled.json ?? "")")
        for _ in 0..<1200 where waiting.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let status = await waiting.stop()
        #expect(status == 2, "a cancelled run exits 2:\n\(waiting.output)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(waiting.output.utf8)) as? [String: Any])
        #expect((report["finished"] as? [String: Any])?["outcome"] as? String == "cancelled")
        #expect((report["finished"] as? [String: Any])?["reason"] as? String == "not needed")
        let timeline = try #require(report["run"] as? [String: Any])
        #expect(timeline["status"] as? String == "cancelled")
        let steps = try #require(timeline["steps"] as? [[String: Any]])
        let attempt = try #require((steps.first?["attempts"] as? [[String: Any]])?.first)
        #expect(attempt["outcome"] as? String == "cancelled" && attempt["startedAt"] is String)
        #expect(steps.last?["status"] as? String == "cancelled")
        try await stack.stop()
    }

    @Test func docsDescribeTheRunCommands() async throws {
        let result = try await ServiceProcess.run("keel", arguments: ["docs", "run"])
        #expect(result.status == 0)
        for heading in [
            "## keel run start", "## keel run list", "## keel run show", "## keel run history",
            "## keel run cancel", "## keel run retry",
        ] {
            #expect(result.output.contains(heading + "\n"), "keel docs run has no '\(heading)'")
        }
        #expect(result.output.contains("USAGE: keel run retry <run-id> --from <from>"))
        #expect(result.output.contains("--reason <reason>"))
        #expect(result.output.contains("--wait"))
    }
}
