import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// Structured logs end to end: the four real services log a run with a retry, an approval
/// decided over HTTP, a callback, a repeated trigger and a rejected one; every line they wrote must parse,
/// every line about the run must carry its identity, and no secret or callback token may appear.
@Suite(.serialized) struct StructuredLogTests {
    /// `flaky` fails its first attempt (a retry, a timer) with a secret in its environment; `review` waits
    /// for an approver; `job` hands its callback token to the test, which calls back.
    static func flow(_ folder: URL) -> String {
        """
        flow: logged
        steps:
          - id: flaky
            run:
              command: [sh, -c, 'echo "key $API_KEY"; if [ ! -e "$1" ]; then : > "$1"; exit 1; fi', flaky, "\(folder.path)/flaky"]
              env: {API_KEY: "${{ secrets.API_KEY }}"}
            retry: {max_attempts: 3, backoff: fixed, initial: 1s, jitter: false}
          - id: review
            needs: [flaky]
            approval: {approvers: ["group:reviewers"]}
          - id: job
            needs: [review]
            run:
              command: [sh, -c, 'printf %s "$KEEL_CALLBACK_TOKEN" > "$1.part" && mv "$1.part" "$1"', job, "\(folder.path)/token"]
            wait: {timeout: 10m}
          - id: after
            needs: [job]
            noop: {}
        """
    }

    /// Fields every line about a run carries (DESIGN §5).
    static let runFields = ["correlation_id", "flow", "release"]

    @Test(arguments: ["json", "logfmt"])
    func everyLineOfARunIsStructuredAndCarriesTheRun(format: String) async throws {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("keel-logs-\(UUID().uuidString)")
        // Steps run as unprivileged users of their own (docs/security.md): the folder is open to them.
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o1777])
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = "sk-live-" + UUID().uuidString.lowercased()
        let gatewayPort = TestHTTP.freePort()
        let stack = try await EngineStack(
            flows: [Self.flow(folder)],
            environment: [
                "KEEL_LOG_FORMAT": format, "KEEL_LOG_LEVEL": "debug", "KEEL_SECRET_API_KEY": secret,
                "KEEL_CALLBACK_KEYS": "e2e:" + Data(key).base64EncodedString(),
                "KEEL_CALLBACK_GATEWAY_URL": "http://127.0.0.1:\(gatewayPort)",
            ])
        var run = ""
        var token = ""
        var reviewerToken = ""
        do {
            let approvals = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
            let gateway = try await stack.startCallbackGateway(port: gatewayPort)
            reviewerToken = try await stack.token("rui", groups: ["reviewers"])

            try await stack.trigger("logged", key: "a")
            run = try await stack.runID(key: "a", flow: "logged")
            try await stack.trigger("logged", key: "a")
            try await stack.trigger("no-such-flow", key: "r")

            let approval = try await approvals.pending(run: run, step: "review", token: reviewerToken)
            let decided = try await approvals.decide(
                try #require(approval["id"] as? String), "approve", token: reviewerToken)
            #expect(decided.status == 200, "\(decided.body)")

            token = try await Self.waitForFile(folder.appendingPathComponent("token"), stack: stack)
            #expect(token.hasPrefix("kcb1."))
            let answer = try await TestHTTP.send(
                "POST", gateway + "/v1/callbacks", headers: ["Authorization": "Bearer \(token)"],
                body: #"{"status": "succeeded", "output": {"result": "ok"}}"#)
            #expect(answer.status == 200 || answer.status == 202, "\(answer.body)")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let attempts = try await stack.history(run).filter {
                if case .stepStarted("flaky", _, _, _) = $0.event { return true }
                return false
            }
            #expect(attempts.count == 2, "flaky should have failed once and been retried")
        } catch {
            Issue.record("\(error)\n\(stack.logs)")
        }
        // Stopping adds the services' shutdown lines; the logs stay readable after.
        try await stack.stop()

        let services =
            [("trigger-intake", stack.intake.output)] + stack.executors.map { ("step-executor", $0.output) }
            + [
                ("approval-service", stack.approvalService?.output ?? ""),
                ("callback-gateway", stack.callbackGateway?.output ?? ""),
            ]
        var aboutTheRun: [LogLine] = []
        for (service, output) in services {
            let texts = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(texts.count > 1, "\(service) logged nothing")
            for text in texts where !text.isEmpty {
                guard let line = format == "json" ? LogLine(json: text) : LogLine(logfmt: text) else {
                    Issue.record("\(service): not a \(format) line: \(text)")
                    continue
                }
                #expect(line["service"] == service, "\(text)")
                #expect(line["msg"] != nil && line["level"] != nil && line["ts"] != nil, "\(text)")
                Self.expectIdentity(line, service: service)
                #expect(!text.contains(secret), "\(service) logged the secret: \(text)")
                #expect(!text.contains("kcb1."), "\(service) logged a callback token: \(text)")
                #expect(
                    reviewerToken.isEmpty || !text.contains(reviewerToken.suffix(43)),
                    "\(service) logged an API token: \(text)")
                guard !run.isEmpty, text.contains(run) else { continue }
                #expect(!(line["msg"] ?? "").contains(run), "the run id is in the message: \(text)")
                #expect(line["run_id"] == run, "a line naming the run without its run_id: \(text)")
                aboutTheRun.append(line)
            }
        }
        // The lines the brief names, each about the run; those written after the run's state was read
        // carry its trace.
        #expect(aboutTheRun.filter { $0["trace_id"] != nil }.count >= 10, "\(aboutTheRun.map(\.text))")
        // The lines the brief names, each about the run.
        let messages = Set(aboutTheRun.compactMap { $0["msg"] })
        for expected in [
            "run created", "repeated trigger; existing run", "attempt started", "attempt recorded",
            "timer fired", "approval decision recorded", "callback",
        ] {
            #expect(messages.contains(expected), "no '\(expected)' line about \(run): \(messages.sorted())")
        }
        let rejected = services.flatMap { $0.1.split(separator: "\n") }.filter {
            $0.contains("trigger rejected")
        }
        #expect(rejected.count == 1 && rejected[0].contains("corr-r"), "\(rejected)")
        let retry = aboutTheRun.first { $0["msg"] == "timer fired" && $0["timer"] == "retry" }
        #expect(retry?["step"] == "flaky" && retry?["attempt"] == "2", "\(String(describing: retry?.text))")
    }

    /// A line with `run_id` has the run's correlation id, flow and release; one with `step` has `attempt`.
    static func expectIdentity(_ line: LogLine, service: String) {
        if line["run_id"] != nil {
            for field in runFields {
                #expect(line[field] != nil, "\(service): \(field) missing from \(line.text)")
            }
        }
        if line["step"] != nil {
            #expect(line["attempt"] != nil, "\(service): attempt missing from \(line.text)")
        }
    }

    /// The file's content once the job has written it.
    static func waitForFile(_ file: URL, stack: EngineStack) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: file, encoding: .utf8), !text.isEmpty { return text }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the job never wrote \(file.lastPathComponent):\n\(stack.logs)")
        throw CancellationError()
    }
}
