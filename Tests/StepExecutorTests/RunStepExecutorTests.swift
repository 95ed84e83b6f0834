import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import Testing

@testable import step_executor

#if canImport(Glibc)
    import Glibc
#endif

/// `run` steps against real processes and a real resource store: outputs through `KEEL_OUTPUT`, the
/// environment a step sees, how an exit becomes an error class, the output streams as redacted
/// resources, timeouts and cancellation.
@Suite struct RunStepExecutorTests {
    static func runStep(
        _ command: [String], env: [String: String] = [:], workingDirectory: String? = nil,
        stdin: String? = nil, timeout: FlowDuration? = nil
    ) -> StepDefinition {
        StepDefinition(
            id: "build",
            kind: .run(
                RunAction(
                    command: command, env: env, workingDirectory: workingDirectory, stdin: stdin,
                    timeout: timeout)))
    }

    @Test func noopSucceedsWithNoOutputsAndOtherKindsAreNotRunHere() async throws {
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources)
            let outcome = try await kinds.execute(work(StepDefinition(id: "join", kind: .noop)))
            #expect(outcome == .succeeded(outputs: [:]))
            let approval = StepDefinition(
                id: "ok", kind: .approval(ApprovalGate(approvers: [.user("alice")])))
            #expect(kinds.executor(for: approval) == nil)
            let wait = StepDefinition(
                id: "cb", kind: .wait(WaitCondition(timeout: FlowDuration(milliseconds: 1000))))
            #expect(kinds.executor(for: wait) == nil)
        }
    }

    @Test func outputsComeFromKeelOutputWithExitCodeAndStreams() async throws {
        try await withResourceStore { resources in
            let step = Self.runStep(
                [
                    "sh", "-c",
                    #"printf '{"greeting":"%s","n":%s}' "$GREETING" "$1" > "$KEEL_OUTPUT"; cat; echo warn >&2"#,
                    "sh", "${{ input.count }}",
                ],
                env: ["GREETING": "hello ${{ input.name }}"], stdin: "piped ${{ input.name }}")
            let outcome = try await StepKinds.testing(resources).execute(
                work(step, input: ["name": "ada", "count": 3]))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["greeting"] == "hello ada")
            #expect(outputs["n"] == 3)
            #expect(outputs["exit_code"] == 0)
            #expect(try await resources.text(of: outputs["stdout"]) == "piped ada")
            #expect(try await resources.text(of: outputs["stderr"]) == "warn\n")
            #expect(outputs["stdout"]?["type"] == "text/plain")
        }
    }

    @Test func theStreamsAreResourcesNamedAfterTheStepAndAttempt() async throws {
        try await withResourceStore { resources in
            let attempt = work(Self.runStep(["sh", "-c", "echo out; echo err >&2"]), attempt: 3)
            let outcome = try await StepKinds.testing(resources).execute(attempt)
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let stdout = try #require(outputs["stdout"])
            let reference = try #require(ResourceStore.storedReference(in: stdout))
            let record = try await resources.show(reference)
            #expect(record.name == "build.3.stdout")
            #expect(record.mediaType == "text/plain")
            #expect(record.producer?.runID == attempt.runID)
            #expect(record.producer?.step == "build")
            #expect(record.producer?.attempt == 3)
            let names = try await resources.list(run: attempt.runID)
                .compactMap(\.name)
            #expect(Set(names) == ["build.3.stdout", "build.3.stderr"])
        }
    }

    @Test func theEnvironmentIsTheStepsOwnPlusTheAttemptsAndNothingOfTheExecutors() async throws {
        setenv("KEEL_STEP_KIND_LEAK_PROBE", "executor-only", 1)
        try await withResourceStore { resources in
            let attempt = work(Self.runStep(["env"], env: ["MODE": "fast"]), attempt: 2)
            let outcome = try await StepKinds.testing(resources, secrets: ["TOKEN": "never-in-env"]).execute(
                attempt)
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let lines = try await resources.text(of: outputs["stdout"]).split(separator: "\n").map(
                String.init)
            var environment: [String: String] = [:]
            for line in lines {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                environment[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            #expect(
                Set(environment.keys) == [
                    "MODE", "PATH", "KEEL_RUN_ID", "KEEL_STEP", "KEEL_ATTEMPT", "KEEL_IDEMPOTENCY_KEY",
                    "KEEL_CORRELATION_ID", "KEEL_OUTPUT",
                ])
            #expect(environment["MODE"] == "fast")
            #expect(environment["PATH"] == "/usr/local/bin:/usr/bin:/bin")
            #expect(environment["KEEL_RUN_ID"] == attempt.runID.description)
            #expect(environment["KEEL_STEP"] == "build")
            #expect(environment["KEEL_ATTEMPT"] == "2")
            #expect(environment["KEEL_IDEMPOTENCY_KEY"] == attempt.idempotencyKey)
            #expect(environment["KEEL_CORRELATION_ID"] == attempt.correlationID)
            // The attempt's directory (and its output file) is gone once the attempt is over.
            let outputPath = try #require(environment["KEEL_OUTPUT"])
            #expect(!FileManager.default.fileExists(atPath: outputPath))
            #expect(
                !FileManager.default.fileExists(atPath: (outputPath as NSString).deletingLastPathComponent))
        }
    }

    @Test func aRelativeWorkingDirectoryIsInsideTheExecutorsCheckout() async throws {
        let checkout = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-checkout-\(UUID())")
        let model = checkout.appendingPathComponent("model/ci")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: checkout) }
        let script = model.appendingPathComponent("build.sh")
        try "#!/bin/sh\nprintf '{\"pwd\": \"%s\"}' \"$(pwd)\" > \"$KEEL_OUTPUT\"\n".write(
            to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        try await withResourceStore { resources in
            let kinds = StepKinds(
                resources: resources, secrets: SecretSource(values: [:]), logger: Logger(label: "test"),
                runDefaults: RunDefaults(workingDirectory: checkout.path))
            let outcome = try await kinds.execute(
                work(Self.runStep(["./ci/build.sh"], workingDirectory: "./model")))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["pwd"]?.stringValue?.hasSuffix("/model") == true, "\(outputs)")
            #expect(outputs["pwd"]?.stringValue?.contains(checkout.lastPathComponent) == true, "\(outputs)")
        }
    }

    @Test func aNonZeroExitIsTransientWithTheEndOfStderr() async throws {
        try await withResourceStore { resources in
            let script = "for i in $(seq 1 40); do echo \"line $i\" >&2; done; exit 3"
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.runStep(["sh", "-c", script])))
            #expect(outcome.errorClass == .transient)
            #expect(outcome.message.hasPrefix("exit code 3"))
            #expect(outcome.message.hasSuffix("line 40"))
            #expect(!outcome.message.contains("line 1\n"), "only the last lines are quoted")
        }
    }

    @Test func theQuotedStderrIsBounded() async throws {
        try await withResourceStore { resources in
            let script = "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1"
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.runStep(["sh", "-c", script])))
            #expect(outcome.errorClass == .transient)
            #expect(outcome.message.utf8.count < 2200)
        }
    }

    @Test func aProgramThatCannotStartIsPermanent() async throws {
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources)
            let missing = try await kinds.execute(work(Self.runStep(["keel-no-such-program-\(UUID())"])))
            #expect(missing.errorClass == .permanent)
            #expect(missing.message.contains("cannot start"))
            let badDirectory = try await kinds.execute(
                work(Self.runStep(["true"], workingDirectory: "/nonexistent/keel-\(UUID())")))
            #expect(badDirectory.errorClass == .permanent)
            #expect(badDirectory.message.contains("does not exist"))
        }
    }

    @Test(arguments: [
        ("[1, 2]", "expected a JSON object"),
        ("{\"a\": ", "KEEL_OUTPUT: invalid JSON"),
        ("\"text\"", "expected a JSON object"),
    ])
    func anOutputThatIsNotAJSONObjectIsPermanent(written: String, expected: String) async throws {
        try await withResourceStore { resources in
            let step = Self.runStep(["sh", "-c", #"printf '%s' "$1" > "$KEEL_OUTPUT""#, "sh", written])
            let outcome = try await StepKinds.testing(resources).execute(work(step))
            #expect(outcome.errorClass == .permanent)
            #expect(outcome.message.contains(expected), "\(outcome.message)")
        }
    }

    @Test func anEmptyOutputFileMeansNoOutputsOfItsOwn() async throws {
        try await withResourceStore { resources in
            let outcome = try await StepKinds.testing(resources).execute(work(Self.runStep(["true"])))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(Set(outputs.keys) == ["exit_code", "stdout", "stderr"])
        }
    }

    @Test func anOutputOverTheInlineLimitBecomesAResource() async throws {
        try await withResourceStore { resources in
            let big = String(repeating: "y", count: 500)
            let step = Self.runStep([
                "sh", "-c", #"printf '{"big":"%s","small":1}' "$1" > "$KEEL_OUTPUT""#, "sh", big,
            ])
            let outcome = try await StepKinds.testing(resources, inlineLimit: 100).execute(work(step))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["small"] == 1)
            #expect(outputs["big"]?["type"] == "application/json")
            #expect(try await resources.text(of: outputs["big"]) == "\"\(big)\"")
        }
    }

    @Test func secretsAreMaskedInStreamsOutputsAndMessages() async throws {
        try await withResourceStore { resources in
            let secret = "hunter2-very-secret"
            let kinds = StepKinds.testing(resources, secrets: ["TOKEN": secret])
            let script = #"""
                echo "token is $TOKEN"; echo "also $TOKEN" >&2
                printf '{"echo":"%s"}' "$TOKEN" > "$KEEL_OUTPUT"
                """#
            let outcome = try await kinds.execute(
                work(Self.runStep(["sh", "-c", script], env: ["TOKEN": "${{ secrets.TOKEN }}"])))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(try await resources.text(of: outputs["stdout"]) == "token is ***\n")
            #expect(try await resources.text(of: outputs["stderr"]) == "also ***\n")
            #expect(outputs["echo"] == "***")

            let failing = try await kinds.execute(
                work(
                    Self.runStep(
                        ["sh", "-c", "echo \"bad $TOKEN\" >&2; exit 2"],
                        env: ["TOKEN": "${{ secrets.TOKEN }}"])))
            #expect(failing.errorClass == .transient)
            #expect(failing.message.contains("bad ***"))
            #expect(!failing.message.contains(secret))
        }
    }

    @Test func withWaitTheProgramGetsACallbackTokenThatNeverReachesTheOutputs() async throws {
        try await withResourceStore { resources in
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let callbacks = CallbackSettings(
                keys: try CallbackKeyRing(keys: ["test": secret], signingKeyID: "test"),
                gatewayURL: "http://127.0.0.1:7404/")
            let handedOver = FileManager.default.temporaryDirectory.appendingPathComponent(
                "keel-token-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: handedOver) }
            // Hands the token to "another system" (a file), and echoes it where Keel stores things.
            let script = #"""
                printf '%s' "$KEEL_CALLBACK_TOKEN" > "$HANDOVER"
                echo "url $KEEL_CALLBACK_URL key $KEEL_IDEMPOTENCY_KEY"
                echo "token $KEEL_CALLBACK_TOKEN"; echo "token $KEEL_CALLBACK_TOKEN" >&2
                printf '{"token":"%s"}' "$KEEL_CALLBACK_TOKEN" > "$KEEL_OUTPUT"
                """#
            var step = Self.runStep(["sh", "-c", script], env: ["HANDOVER": handedOver])
            guard case .run(var action) = step.kind else { return }
            action.wait = WaitCondition(timeout: FlowDuration(milliseconds: 3_600_000))
            step.kind = .run(action)
            let attempt = work(step, attempt: 2)
            let started = Date()
            let outcome = try await StepKinds.testing(resources, callbacks: callbacks).execute(attempt)
            let outputs = try #require(outcome.outputs, "\(outcome)")

            let token = try String(contentsOfFile: handedOver, encoding: .utf8)
            let claims = try CallbackToken.verify(token, keys: callbacks.keys)
            #expect(claims.run == attempt.runID)
            #expect(claims.step == "build")
            #expect(claims.attempt == 2)
            #expect(claims.wait == "\(attempt.runID):build:2:wait")
            let lifetime = Double(claims.expires) - started.timeIntervalSince1970
            #expect(lifetime > 4_100 && lifetime < 4_300)

            #expect(
                try await resources.text(of: outputs["stdout"])
                    == "url http://127.0.0.1:7404/v1/callbacks key \(attempt.idempotencyKey)\ntoken ***\n")
            #expect(try await resources.text(of: outputs["stderr"]) == "token ***\n")
            #expect(outputs["token"] == "***")
            #expect(!JSONValue.object(outputs).jsonString().contains(token))
        }
    }

    @Test func withWaitButNoCallbackSettingsTheStepFailsPermanently() async throws {
        try await withResourceStore { resources in
            let step = StepDefinition(
                id: "build",
                kind: .run(
                    RunAction(
                        command: ["true"], wait: WaitCondition(timeout: FlowDuration(milliseconds: 1000)))))
            let outcome = try await StepKinds.testing(resources).execute(work(step))
            #expect(outcome.errorClass == .permanent)
            #expect(outcome.message.contains("no callback settings"))
        }
    }

    @Test func aTemplateThatCannotBeEvaluatedIsPermanentAndNamesTheField() async throws {
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, secrets: ["TOKEN": "abc-secret"])
            let missing = try await kinds.execute(
                work(Self.runStep(["echo", "${{ secrets.NOPE }}"])))
            #expect(missing.errorClass == .permanent)
            #expect(missing.message.hasPrefix("command[1]: "))
            #expect(missing.message.contains("NOPE"))
            let typeError = try await kinds.execute(
                work(Self.runStep(["true"], env: ["X": "${{ fromJSON(secrets.TOKEN) }}"])))
            #expect(typeError.errorClass == .permanent)
            #expect(typeError.message.hasPrefix("env.X: "))
            #expect(!typeError.message.contains("abc-secret"))
        }
    }

    @Test func bigOutputStreamsIntoTheResource() async throws {
        try await withResourceStore { resources in
            let size = 3 * 1_048_576
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.runStep(["head", "-c", "\(size)", "/dev/zero"])))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["stdout"]?["size"] == .number(JSONNumber(size)))
        }
    }

    @Test func aTimeoutKillsTheProcessAndIsClassedTimeout() async throws {
        try await withResourceStore { resources in
            let started = ContinuousClock.now
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.runStep(["sh", "-c", "sleep 300"], timeout: FlowDuration(milliseconds: 300))))
            #expect(outcome.errorClass == .timeout)
            #expect(outcome.message.contains("300ms"))
            // Only a timeout that did not fire could take the five minutes of `sleep 300`.
            #expect(ContinuousClock.now - started < .seconds(120))
        }
    }

    @Test func cancellationStopsTheProcessAndIsClassedCancelled() async throws {
        try await withResourceStore { resources in
            let marker = FileManager.default.temporaryDirectory.appendingPathComponent(
                "keel-started-\(UUID())"
            ).path
            defer { try? FileManager.default.removeItem(atPath: marker) }
            let step = Self.runStep(["sh", "-c", "touch \"$1\"; sleep 300", "sh", marker])
            let kinds = StepKinds.testing(resources)
            let started = ContinuousClock.now
            let attempt = Task { try await kinds.execute(work(step)) }
            // Wait for the process to be running (a broken start would never create the marker).
            while !FileManager.default.fileExists(atPath: marker),
                ContinuousClock.now - started < .seconds(120)
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(FileManager.default.fileExists(atPath: marker))
            attempt.cancel()
            let outcome = try await attempt.value
            #expect(outcome.errorClass == .cancelled)
            #expect(ContinuousClock.now - started < .seconds(120))
        }
    }
}
