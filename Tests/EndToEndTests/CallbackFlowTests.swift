import AMQPClient
import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Waits and callbacks end to end (DESIGN invariant 7), with the real trigger-intake, step-executors,
/// callback-gateway, PostgreSQL, RabbitMQ and sshd: the GPU benchmark example starts its job over SSH, the
/// job calls back with `keel callback`, and nothing but a genuine, unexpired token for an open wait
/// answers it — once.
@Suite(.serialized) struct CallbackFlowTests {
    /// A bare wait: the tests mint its tokens with the stack's keys, as an executor would.
    static let waitFlow = """
        flow: callback-wait
        steps:
          - id: job
            wait:
              timeout: 10m
              schema: {type: object, required: [result], properties: {result: {type: string}}}
          - id: after
            needs: [job]
            noop: {}
        """

    /// A wait that opens only when the file named by `input.gate` exists.
    static let earlyFlow = """
        flow: callback-early
        input:
          type: object
          required: [gate]
          properties: {gate: {type: string}}
        steps:
          - id: gate
            run:
              command: [sh, -c, 'while [ ! -e "$1" ]; do sleep 0.1; done', gate, "${{ input.gate }}"]
              timeout: 5m
          - id: job
            needs: [gate]
            wait: {timeout: 10m}
          - id: after
            needs: [job]
            noop: {}
        """

    /// Runs `body` on a fresh stack whose flows are `flows(testbed)`: the gpu-benchmark flows name the
    /// testbed's job script.
    func withStack(
        flows: (CallbackTestbed) throws -> [String],
        _ body: (EngineStack, CallbackTestbed, String) async throws -> Void
    ) async throws {
        let testbed = try CallbackTestbed()
        let stack: EngineStack
        do {
            stack = try await EngineStack(flows: try flows(testbed), environment: try testbed.environment())
        } catch {
            testbed.remove()
            throw error
        }
        do {
            try await stack.startExecutor(["KEEL_STEP_POOL": "gpu", "KEEL_LOG_LEVEL": "debug"])
            let gateway = try await stack.startCallbackGateway(port: testbed.gatewayPort)
            try await body(stack, testbed, gateway)
            #expect(!stack.logs.contains("kcb1."), "a callback token reached a service's log")
        } catch {
            try? await stack.stop()
            testbed.remove()
            throw error
        }
        try await stack.stop()
        testbed.remove()
    }

    /// The id of the run's open wait for `step`, once it is open.
    func openWait(_ stack: EngineStack, run: String, step: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let id = try await stack.pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT id FROM waits
                    WHERE run_id = \(UUID(uuidString: run)) AND step = \(step) AND status = 'open'
                    """
                ).first?.decode((String).self)
            }
            if let id { return id }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no open wait for \(step) of \(run):\n\(stack.logs)")
        throw CancellationError()
    }

    func post(_ gateway: String, token: String?, _ body: String) async throws -> TestHTTP.Answer {
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await TestHTTP.send("POST", gateway + "/v1/callbacks", headers: headers, body: body)
    }

    /// The callbacks the history holds for `run`: step, status and output.
    func callbacks(_ stack: EngineStack, _ run: String) async throws -> [(
        step: String, status: CallbackStatus, output: JSONValue
    )] {
        try await stack.history(run).compactMap { fact in
            guard case .callbackReceived(let step, _, let status, let output) = fact.event else { return nil }
            return (step, status, output)
        }
    }

    /// What became of each callback received for the run, oldest first: `disposition status`.
    func dispositions(_ stack: EngineStack, _ run: String) async throws -> [String] {
        try await stack.pool.withConnection { connection in
            try await connection.query(
                "SELECT disposition, status FROM callbacks WHERE run_id = \(UUID(uuidString: run)) ORDER BY id"
            ).map { row -> String in
                let (disposition, status) = try row.decode((String, String).self)
                return "\(disposition) \(status)"
            }
        }
    }

    /// The step's outputs when it succeeded, or nil.
    func outputs(_ stack: EngineStack, _ run: String, _ step: String) async throws -> JSONObject? {
        try await stack.history(run).compactMap { fact -> JSONObject? in
            guard case .stepSucceeded(step, _, let outputs) = fact.event else { return nil }
            return outputs
        }.last
    }

    func skipped(_ stack: EngineStack, _ run: String) async throws -> Set<String> {
        Set(
            try await stack.history(run).compactMap { fact -> String? in
                guard case .stepSkipped(let step, _) = fact.event else { return nil }
                return step
            })
    }

    @Test func theGPUBenchmarkRunsItsJobOverSSHAndResumesOnItsCallback() async throws {
        try await withStack(flows: { [try $0.gpuBenchmark()] }) { stack, testbed, gateway in
            try testbed.setMode("succeeded")
            try await stack.trigger("gpu-benchmark", input: #"{"commit": "abc1234"}"#, key: "ok")
            let run = try await stack.runID(key: "ok", flow: "gpu-benchmark")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")

            // The job ran on the host, sent a heartbeat, its result (with its log), then the result again.
            #expect(testbed.lines("started").contains { $0.hasPrefix(run + " ") })
            // The run resumes on the second callback; the job sends its third after that.
            let said = try await testbed.waitForLines("\(run).callbacks") {
                $0.filter { $0.hasPrefix("exit ") }.count >= 3
            }
            #expect(said.filter { $0 == "exit 0" }.count == 3, "\(said)")
            #expect(said.contains { $0.hasPrefix("already answered") }, "\(said)")
            let received = try await callbacks(stack, run)
            #expect(received.map(\.status) == [.heartbeat, .succeeded], "a replay must not be applied")
            #expect(
                try await dispositions(stack, run) == [
                    "applied heartbeat", "applied succeeded", "duplicate succeeded",
                ])

            // The callback's output (with its uploaded log) replaces the outputs the job's start had.
            let bench = try #require(received.last?.output.objectValue)
            #expect(received.last?.output.objectValue?["p50_ms"] == 1.5)
            #expect(received.last?.output.objectValue?["iterations"] == 1000)
            let log = try await stack.text(of: bench["log"])
            #expect(log.hasPrefix("bench succeeded of ") && log.contains("res:sha256:"), "\(log)")
            let report = try #require(try await outputs(stack, run, "report"))
            let markdown = try await stack.text(of: report["report"])
            #expect(markdown.hasPrefix("# Benchmark of abc1234\n"))
            #expect(markdown.contains("4.25"))
            #expect(try await skipped(stack, run) == ["report-partial", "triage"])
            try await stack.expectHistoryReplays(run)

            // One trace from the trigger to the job's callback: the job sent back the attempt's TRACEPARENT.
            let trace = try await stack.history(run).compactMap { fact -> String? in
                guard case .runTriggered(let trigger) = fact.event else { return nil }
                return trigger.traceparent.flatMap(TraceContext.init(traceparent:))?.traceID
            }.first
            let traceID = try #require(trace, "the run has no trace")
            let gatewayLog = stack.callbackGateway?.output ?? ""
            #expect(gatewayLog.contains("trace_id=\(traceID)"), "\(gatewayLog)")
            #expect(stack.intake.output.contains("trace_id=\(traceID)"), "\(stack.intake.output)")
            let executors = stack.executors.map(\.output).joined(separator: "\n")
            #expect(executors.contains("trace_id=\(traceID)"), "\(executors)")

            let metrics = try #require(await TestHTTP.get(gateway + "/metrics")).body
            let scrape = try PrometheusScrape(parsing: metrics)
            for outcome in ["applied", "heartbeat", "duplicate"] {
                #expect(
                    scrape.sum("keel_callbacks_total", ["outcome": outcome, "via": "http"]) == 1, "\(outcome)"
                )
            }
            // The gateway appended the callback that closed the wait, so it measured the wait: once.
            let wait = ["flow": "gpu-benchmark", "release": "1", "step": "bench", "status": "succeeded"]
            #expect(scrape.sum("keel_wait_duration_seconds_count", wait) == 1, "\(metrics)")
            #expect(scrape.sum("keel_wait_duration_seconds_count") == 1)
        }
    }

    @Test func partialAndFailedCallbacksTakeTheirOwnPaths() async throws {
        try await withStack(flows: { [try $0.gpuBenchmark()] }) { stack, testbed, _ in
            try testbed.setMode("partial")
            try await stack.trigger("gpu-benchmark", input: #"{"commit": "bbb2222"}"#, key: "partial")
            let partial = try await stack.runID(key: "partial", flow: "gpu-benchmark")
            #expect(try await stack.finish(partial, expected: "succeeded") == "succeeded")
            #expect(try await callbacks(stack, partial).map(\.status) == [.partial])
            #expect(try await skipped(stack, partial) == ["report", "triage"])
            let report = try #require(try await outputs(stack, partial, "report-partial"))
            #expect(
                try await stack.text(of: report["report"]).hasPrefix("# Benchmark of bbb2222 (partial)\n"))

            try testbed.setMode("failed")
            try await stack.trigger("gpu-benchmark", input: #"{"commit": "ccc3333"}"#, key: "failed")
            let failed = try await stack.runID(key: "failed", flow: "gpu-benchmark")
            // triage handles the failure, so the run itself succeeds (docs/flows.md, `if` on a status).
            #expect(try await stack.finish(failed, expected: "succeeded") == "succeeded")
            #expect(try await callbacks(stack, failed).map(\.status) == [.failed])
            #expect(try await skipped(stack, failed) == ["report", "report-partial"])
            let triaged = testbed.triaged().filter { $0.hasPrefix(failed + " ") }
            #expect(triaged.count == 1)
            #expect(triaged.first?.hasPrefix("\(failed) failed ") == true)
            #expect(triaged.first?.contains("CUDA out of memory") == true, "triage reads the job's report")
            try await stack.expectHistoryReplays(partial)
            try await stack.expectHistoryReplays(failed)
        }
    }

    @Test func aJobThatStopsSendingHeartbeatsTimesOutAndIsStoppedOnItsHost() async throws {
        try await withStack(flows: { [try $0.gpuBenchmark(name: "gpu-silent", heartbeat: "2s")] }) {
            stack, testbed, _ in
            try testbed.setMode("silent")
            try await stack.trigger("gpu-silent", input: #"{"commit": "ddd4444"}"#, key: "silent")
            let run = try await stack.runID(key: "silent", flow: "gpu-silent")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let facts = try await stack.history(run)
            let timedOut = facts.contains { fact in
                if case .stepTimedOut("bench", _, .heartbeat) = fact.event { return true }
                return false
            }
            #expect(
                timedOut,
                "bench did not time out for want of a heartbeat: \(facts.map(\.event))\n\(stack.logs)")
            #expect(testbed.triaged().contains { $0.hasPrefix("\(run) timed_out") })

            // The job (`exec sleep`) was started on the host; the reaper must have ended it there.
            let line = try #require(testbed.lines("started").first { $0.hasPrefix(run + " ") })
            let pid = try #require(Int32(line.split(separator: " ")[1]))
            let deadline = ContinuousClock.now + .seconds(90)
            while Self.isRunning(pid), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(!Self.isRunning(pid), "the silent job \(pid) still runs on the host:\n\(stack.logs)")
            #expect(try await callbacks(stack, run).isEmpty)
            try await stack.expectHistoryReplays(run)
        }
    }

    /// Whether `pid` runs (the sshd is on this machine): it exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            return false
        }
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }

    @Test func tokensThatAreNotThisWaitsChangeNothing() async throws {
        try await withStack(flows: { _ in [Self.waitFlow] }) { stack, testbed, gateway in
            try await stack.trigger("callback-wait", key: "a")
            try await stack.trigger("callback-wait", key: "b")
            let a = try await stack.runID(key: "a", flow: "callback-wait")
            let b = try await stack.runID(key: "b", flow: "callback-wait")
            _ = try await openWait(stack, run: a, step: "job")
            let waitB = try await openWait(stack, run: b, step: "job")
            let result = #"{"status": "succeeded", "output": {"result": "ok"}}"#

            let otherKeys = try CallbackKeyRing(
                keys: ["e2e": Array(repeating: 7, count: 32)], signingKeyID: "e2e")
            let refusals: [(String, String?, String, Int, String)] = [
                ("no token", nil, result, 401, "/problems/invalid-callback-token"),
                ("not a token", "garbage", result, 401, "/problems/invalid-callback-token"),
                (
                    "forged", testbed.token(run: b, step: "job", keys: otherKeys), result, 401,
                    "/problems/invalid-callback-token"
                ),
                (
                    "expired", testbed.token(run: b, step: "job", expires: Date().addingTimeInterval(-5)),
                    result, 410,
                    "/problems/callback-token-expired"
                ),
                (
                    "other run's token", testbed.token(run: a, step: "job"),
                    #"{"status": "succeeded", "output": {"result": "ok"}, "wait_id": "\#(waitB)"}"#, 401,
                    "/problems/invalid-callback-token"
                ),
                ("not JSON", testbed.token(run: b, step: "job"), "{", 400, "/problems/malformed-body"),
                (
                    "bad status", testbed.token(run: b, step: "job"), #"{"status": "done"}"#, 422,
                    "/problems/invalid-callback"
                ),
                (
                    "bad output", testbed.token(run: b, step: "job"),
                    #"{"status": "succeeded", "output": {"result": 5}}"#,
                    422, "/problems/invalid-callback"
                ),
            ]
            for (label, token, body, status, type) in refusals {
                let answer = try await post(gateway, token: token, body)
                #expect(answer.status == status, "\(label): \(answer.body)")
                #expect(answer.headers["content-type"] == "application/problem+json", "\(label)")
                #expect(answer.json?["type"] as? String == type, "\(label): \(answer.body)")
                #expect(!answer.body.contains("kcb1."), "\(label): the answer repeats a token")
            }
            let invalid = try await post(
                gateway, token: testbed.token(run: b, step: "job"),
                #"{"status": "succeeded", "output": {"result": 5}}"#)
            let pointers = (invalid.json?["errors"] as? [[String: Any]])?.compactMap {
                $0["pointer"] as? String
            }
            #expect(pointers == ["/output/result"], "\(invalid.body)")
            #expect(try await stack.status(b) == "waiting")
            #expect(try await callbacks(stack, b).isEmpty)
            #expect(try await callbacks(stack, a).isEmpty)

            let token = testbed.token(run: b, step: "job")
            let applied = try await post(gateway, token: token, result)
            #expect(applied.status == 200, "\(applied.body)")
            #expect(applied.json?["outcome"] as? String == "applied")
            #expect(try await stack.finish(b, expected: "succeeded") == "succeeded")
            let again = try await post(gateway, token: token, #"{"status": "failed"}"#)
            #expect(again.status == 200, "\(again.body)")
            #expect(again.json?["outcome"] as? String == "already_answered")
            #expect((again.json?["wait"] as? [String: Any])?["status"] as? String == "succeeded")
            #expect(try await callbacks(stack, b).map(\.status) == [.succeeded])

            // A wait that ended another way tells a late callback so, and changes nothing.
            #expect(
                try await stack.keel(["run", "cancel", a, "--reason", "test"], database: stack.database)
                    .status == 0)
            #expect(try await stack.finish(a, expected: "cancelled") == "cancelled")
            let late = try await post(gateway, token: testbed.token(run: a, step: "job"), result)
            #expect(late.status == 409, "\(late.body)")
            #expect(late.json?["type"] as? String == "/problems/wait-closed")
            #expect((late.json?["wait"] as? [String: Any])?["status"] as? String == "cancelled")
            #expect(try await callbacks(stack, a).isEmpty)
            try await stack.expectHistoryReplays(a)
            try await stack.expectHistoryReplays(b)
        }
    }

    @Test func uploadsAreStoredForTheTokensAttemptAndNamedByItsCallback() async throws {
        try await withStack(flows: { _ in [Self.waitFlow] }) { stack, testbed, gateway in
            try await stack.trigger("callback-wait", key: "upload")
            let run = try await stack.runID(key: "upload", flow: "callback-wait")
            _ = try await openWait(stack, run: run, step: "job")
            let token = testbed.token(run: run, step: "job")
            let auth = ["Authorization": "Bearer \(token)", "Content-Type": "text/plain"]
            let url = gateway + "/v1/callbacks/resources?name=log"
            let digest = "7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9"  // "hello world!"
            let uploaded = try await TestHTTP.send(
                "POST", url, headers: auth.merging(["Keel-Content-SHA256": digest]) { $1 },
                body: "hello world!")
            #expect(uploaded.status == 201, "\(uploaded.body)")
            #expect(uploaded.json?["resource"] as? String == "res:sha256:\(digest)")
            #expect(uploaded.json?["media_type"] as? String == "text/plain")

            let damaged = try await TestHTTP.send(
                "POST", url, headers: auth.merging(["Keel-Content-SHA256": digest]) { $1 },
                body: "hello world?")
            #expect(damaged.status == 422, "\(damaged.body)")
            let big = String(repeating: "x", count: CallbackTestbed.uploadLimit + 1)
            let tooBig = try await TestHTTP.send("POST", url, headers: auth, body: big)
            #expect(tooBig.status == 413, "\(tooBig.body)")
            let anonymous = try await TestHTTP.send("POST", url, body: "hello world!")
            #expect(anonymous.status == 401)

            // Content this run never stored cannot be passed off as its own.
            let foreign = try await post(
                gateway, token: token,
                #"{"status": "succeeded", "output": {"result": "ok"}, "resources": [{"name": "log", "resource": "res:sha256:\#(String(repeating: "ab", count: 32))"}]}"#
            )
            #expect(foreign.status == 422, "\(foreign.body)")
            let applied = try await post(
                gateway, token: token,
                #"{"status": "succeeded", "output": {"result": "ok"}, "resources": [{"name": "log", "resource": "res:sha256:\#(digest)"}]}"#
            )
            #expect(applied.status == 200, "\(applied.body)")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let output = try #require(try await callbacks(stack, run).first?.output)
            #expect(try await stack.text(of: output.objectValue?["log"]) == "hello world!")
            #expect(output.objectValue?["result"] == "ok")
            let stored = try await ResourceStore(pool: stack.pool, configuration: ResourceConfiguration())
                .list(
                    run: try #require(RunID(run)))
            #expect(stored.map(\.name) == ["log"], "only the verified upload is kept")
            #expect(stored.first?.producer?.step == "job")
        }
    }

    @Test func aCallbackCannotNameAnotherRunsResourcesInItsResourcesOrItsOutput() async throws {
        try await withStack(flows: { _ in [Self.waitFlow] }) { stack, testbed, gateway in
            try await stack.trigger("callback-wait", key: "owner")
            try await stack.trigger("callback-wait", key: "thief")
            let owner = try await stack.runID(key: "owner", flow: "callback-wait")
            let thief = try await stack.runID(key: "thief", flow: "callback-wait")
            _ = try await openWait(stack, run: owner, step: "job")
            _ = try await openWait(stack, run: thief, step: "job")
            let ownerToken = testbed.token(run: owner, step: "job")
            let thiefToken = testbed.token(run: thief, step: "job")
            let url = gateway + "/v1/callbacks/resources?name=secret"
            let uploaded = try await TestHTTP.send(
                "POST", url,
                headers: ["Authorization": "Bearer \(ownerToken)", "Content-Type": "text/plain"],
                body: "the owner's artifact")
            #expect(uploaded.status == 201, "\(uploaded.body)")
            let reference = try #require(uploaded.json?["resource"] as? String)

            let attempts: [(String, String, [String])] = [
                (
                    "in resources",
                    #"{"status": "succeeded", "output": {"result": "ok"}, "resources": [{"name": "log", "resource": "\#(reference)"}]}"#,
                    ["/resources/log"]
                ),
                (
                    "as an output resource",
                    #"{"status": "succeeded", "output": {"result": "ok", "log": {"$resource": "\#(reference)"}}}"#,
                    ["/output/log/$resource"]
                ),
                (
                    "as an output string, deep",
                    #"{"status": "succeeded", "output": {"result": "\#(reference)", "more": [1, {"x": "\#(reference)"}]}}"#,
                    ["/output/result", "/output/more/1/x"]
                ),
                (
                    "in a heartbeat's progress",
                    #"{"status": "heartbeat", "output": {"log": "\#(reference)"}}"#,
                    ["/output/log"]
                ),
            ]
            for (label, body, expected) in attempts {
                let answer = try await post(gateway, token: thiefToken, body)
                #expect(answer.status == 422, "\(label): \(answer.body)")
                #expect(answer.json?["type"] as? String == "/problems/invalid-callback", "\(label)")
                let pointers = (answer.json?["errors"] as? [[String: Any]])?.compactMap {
                    $0["pointer"] as? String
                }
                #expect(pointers == expected, "\(label): \(answer.body)")
            }
            #expect(try await stack.status(thief) == "waiting")
            #expect(try await callbacks(stack, thief).isEmpty)

            // The owner names its own upload anywhere; the other run, once it stored the same bytes itself.
            let own = try await post(
                gateway, token: ownerToken,
                #"{"status": "succeeded", "output": {"result": "ok", "log": {"$resource": "\#(reference)"}}}"#
            )
            #expect(own.status == 200, "\(own.body)")
            #expect(try await stack.finish(owner, expected: "succeeded") == "succeeded")
            let again = try await TestHTTP.send(
                "POST", url,
                headers: ["Authorization": "Bearer \(thiefToken)", "Content-Type": "text/plain"],
                body: "the owner's artifact")
            #expect(again.json?["resource"] as? String == reference, "\(again.body)")
            let named = try await post(
                gateway, token: thiefToken, #"{"status": "succeeded", "output": {"result": "\#(reference)"}}"#
            )
            #expect(named.status == 200, "\(named.body)")
            #expect(try await stack.finish(thief, expected: "succeeded") == "succeeded")
            try await stack.expectHistoryReplays(thief)
        }
    }

    @Test func anEarlyCallbackIsKeptAndAppliedWhenItsWaitOpens() async throws {
        try await withStack(flows: { _ in [Self.earlyFlow] }) { stack, testbed, gateway in
            let gate = testbed.root.appendingPathComponent("gate")
            try await stack.trigger("callback-early", input: #"{"gate": "\#(gate.path)"}"#, key: "early")
            let run = try await stack.runID(key: "early", flow: "callback-early")
            let token = testbed.token(run: run, step: "job")
            let early = try await post(gateway, token: token, #"{"status": "succeeded", "output": {"n": 1}}"#)
            #expect(early.status == 202, "\(early.body)")
            #expect(early.json?["outcome"] as? String == "kept_early")
            #expect(try await callbacks(stack, run).isEmpty)
            #expect(try await stack.status(run) != "succeeded")

            try Data().write(to: gate)
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let received = try await callbacks(stack, run)
            #expect(received.map(\.status) == [.succeeded])
            #expect(received.first?.output.objectValue?["n"] == 1)
            #expect(try await dispositions(stack, run) == ["early succeeded"])
            let applied = try await stack.pool.withConnection { connection in
                try #require(
                    try await connection.query(
                        "SELECT applied FROM callbacks WHERE run_id = \(UUID(uuidString: run))"
                    ).first
                ).decode((Bool).self)
            }
            #expect(applied)
            let again = try await post(gateway, token: token, #"{"status": "succeeded", "output": {"n": 2}}"#)
            #expect(again.json?["outcome"] as? String == "already_answered", "\(again.body)")
            #expect(try await callbacks(stack, run).count == 1)
            try await stack.expectHistoryReplays(run)
        }
    }

    @Test func aCallbackPublishedOverAMQPResumesARunAsHTTPDoes() async throws {
        try await withStack(flows: { _ in [Self.waitFlow] }) { stack, testbed, _ in
            try await stack.trigger("callback-wait", key: "amqp")
            let run = try await stack.runID(key: "amqp", flow: "callback-wait")
            _ = try await openWait(stack, run: run, step: "job")
            let replies = "callback-replies-\(UUID().uuidString)"
            try await stack.channel.declareQueue(replies, durable: false, exclusive: true, autoDelete: true)

            // A forged one first: dead-lettered with its reason, its token gone from the dead letter.
            let otherKeys = try CallbackKeyRing(
                keys: ["e2e": Array(repeating: 9, count: 32)], signingKeyID: "e2e")
            let forged = testbed.token(run: run, step: "job", keys: otherKeys)
            try await publish(
                stack, #"{"token": "\#(forged)", "status": "succeeded", "output": {"result": "forged"}}"#,
                replyTo: replies)
            let dead = try await get(stack, queue: "keel.dead.keel.callbacks")
            #expect(dead.properties.headers["keel-reason"]?.stringValue == "unauthorized")
            let deadBody = String(decoding: dead.body, as: UTF8.self)
            #expect(!deadBody.contains("kcb1."), "a dead letter holds a token: \(deadBody)")
            #expect(deadBody.contains("[redacted]"))
            let refusal = try await get(stack, queue: replies)
            #expect(
                String(decoding: refusal.body, as: UTF8.self).contains("/problems/invalid-callback-token"))
            #expect(try await stack.status(run) == "waiting")

            try await publish(
                stack,
                #"{"token": "\#(testbed.token(run: run, step: "job"))", "status": "succeeded", "output": {"result": "over amqp"}}"#,
                replyTo: replies)
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let reply = try JSONValue(parsing: try await get(stack, queue: replies).body)
            #expect(reply.objectValue?["outcome"] == "applied", "\(reply)")
            let received = try await callbacks(stack, run)
            #expect(received.map(\.status) == [.succeeded])
            #expect(received.first?.output.objectValue?["result"] == "over amqp")
            try await stack.expectHistoryReplays(run)
        }
    }

    func publish(_ stack: EngineStack, _ body: String, replyTo: String) async throws {
        try await stack.channel.publish(
            Array(body.utf8), exchange: "keel.callbacks", routingKey: "callback",
            properties: AMQPProperties(
                contentType: "application/json", correlationID: UUID().uuidString, replyTo: replyTo,
                messageID: UUID().uuidString),
            mandatory: true)
    }

    /// The next message on `queue`, waiting for it as long as a working gateway could need.
    func get(_ stack: EngineStack, queue: String) async throws -> AMQPDelivery {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let delivery = try await stack.channel.get(queue: queue) {
                try await stack.channel.ack(delivery)
                return delivery
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("nothing arrived on \(queue):\n\(stack.logs)")
        throw CancellationError()
    }

    @Test func aHostWhoseKeyIsNotThePinnedOneIsRefused() async throws {
        try await withStack(flows: { [try $0.gpuBenchmark()] }) { stack, testbed, _ in
            try testbed.setMode("succeeded")
            try await stack.trigger(
                "gpu-benchmark", input: #"{"commit": "eee5555", "host": "gpu-impostor"}"#, key: "impostor")
            let run = try await stack.runID(key: "impostor", flow: "gpu-benchmark")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let failures = try await stack.history(run).compactMap { fact -> (ErrorClass, String)? in
                guard case .stepFailed("bench", _, let errorClass, let message) = fact.event else {
                    return nil
                }
                return (errorClass, message)
            }
            #expect(failures.count == 1, "a host key mismatch is not retried")
            #expect(failures.first?.0 == .permanent)
            #expect(failures.first?.1.lowercased().contains("host key") == true, "\(failures)")
            #expect(!testbed.lines("started").contains { $0.hasPrefix(run + " ") }, "the job started anyway")
            #expect(testbed.triaged().contains { $0.hasPrefix("\(run) failed") })
        }
    }
}
