import ArgumentParser
import Foundation
import KeelCore
import Testing

@testable import keel

/// `keel callback`'s parts that need no server: flags, resource arguments, the retry schedule, and the
/// lines and messages it prints for the gateway's answers.
@Suite struct CallbackArgumentTests {
    @Test func statusAndHeartbeatFlagsMustAgree() throws {
        #expect(try CallbackCommand.parse(["--status", "succeeded"]).sentStatus() == "succeeded")
        #expect(try CallbackCommand.parse(["--heartbeat"]).sentStatus() == "heartbeat")
        #expect(
            try CallbackCommand.parse(["--heartbeat", "--status", "heartbeat"]).sentStatus() == "heartbeat")
        #expect(throws: (any Error).self) {
            try CallbackCommand.parse(["--heartbeat", "--status", "failed"])
        }
        #expect(throws: (any Error).self) { try CallbackCommand.parse(["--status", "done"]) }
        #expect(throws: (any Error).self) { try CallbackCommand.parse([]) }
        #expect(throws: (any Error).self) {
            try CallbackCommand.parse(["--status", "failed", "--retry-for", "ten"])
        }
        let command = try CallbackCommand.parse(["--status", "partial", "--retry-for", "90s"])
        #expect(try command.retryBudget() == .seconds(90))
    }

    @Test func usageErrorsExitWith64() {
        let error = CallbackCommand.exitCode(for: ValidationError("--output: not valid JSON"))
        #expect(error.rawValue == 64)
    }

    @Test func resourceArgumentsNameAFileWithAMediaType() throws {
        let log = try CallbackResourceFile(argument: "log=build/out.log")
        #expect(log.name == "log" && log.path == "build/out.log" && log.mediaType == "text/plain")
        #expect(try CallbackResourceFile(argument: "v1.2_x-Y=a=b.md").path == "a=b.md")
        let types = try [
            "r.json", "p.patch", "c.diff", "t.csv", "i.html", "w.tar.gz", "w.tgz", "t.zst", "notes.md",
            "blob",
        ].map { try CallbackResourceFile(argument: "x=" + $0).mediaType }
        #expect(
            types == [
                "application/json", "text/x-diff", "text/x-diff", "text/csv", "text/html", "application/gzip",
                "application/gzip", "application/zstd", "text/markdown", "application/octet-stream",
            ])
        for bad in [
            "log", "=out.log", "a b=out.log", "log/x=out.log", "é=out.log", "log=",
            String(repeating: "n", count: 129) + "=f",
        ] {
            #expect(throws: ValidationError.self, "\(bad)") { try CallbackResourceFile(argument: bad) }
        }
        #expect(throws: Never.self) {
            try CallbackResourceFile(argument: String(repeating: "n", count: 128) + "=f")
        }
    }

    @Test func resourceNamesMustNotRepeatOrShadowAnOutputField() throws {
        let log = try CallbackResourceFile(argument: "log=a.log")
        let report = try CallbackResourceFile(argument: "report=r.json")
        try CallbackCommand.checkNames([log, report], against: ["p50_ms": 12])
        #expect(throws: ValidationError.self) { try CallbackCommand.checkNames([log, log], against: [:]) }
        #expect(throws: ValidationError.self) { try CallbackCommand.checkNames([log], against: ["log": "x"]) }
    }

    @Test func theOutputMustBeAJSONObjectAndTheErrorSaysWhy() throws {
        #expect(try CallbackOutputArgument.parse(#"{"p50_ms": 12}"#, flag: "--output") == ["p50_ms": 12])
        do {
            _ = try CallbackOutputArgument.parse("{\"a\": 1,\n }", flag: "--output")
            Issue.record("invalid JSON was accepted")
        } catch {
            #expect(error.message.hasPrefix("--output: not valid JSON: "))
            #expect(error.message.contains("line 2"))
        }
        do {
            _ = try CallbackOutputArgument.parse("[1, 2]", flag: "--output @out.json")
            Issue.record("an array was accepted")
        } catch {
            #expect(error.message == "--output @out.json: expected a JSON object, got an array")
        }
    }

    @Test func theSettingsComeFromTheEnvironmentAndAreNamedWhenMissing() async throws {
        let environment = [
            "KEEL_CALLBACK_URL": "http://gateway.test:7404/v1/callbacks/",
            "KEEL_CALLBACK_TOKEN": "kcb1.k.c.mac\n",
        ]
        let endpoint = try await CallbackEndpoint.resolve(url: nil, tokenFile: nil, environment: environment)
        #expect(endpoint.token == "kcb1.k.c.mac")
        #expect(
            endpoint.resourcesURL(name: "log")?.absoluteString
                == "http://gateway.test:7404/v1/callbacks/resources?name=log")

        await #expect(throws: ValidationError.self) {
            try await CallbackEndpoint.resolve(
                url: nil, tokenFile: nil, environment: ["KEEL_CALLBACK_TOKEN": "t"])
        }
        do {
            _ = try await CallbackEndpoint.resolve(
                url: nil, tokenFile: nil,
                environment: ["KEEL_CALLBACK_URL": "http://gateway.test/v1/callbacks"])
            Issue.record("a missing token was accepted")
        } catch let error as ValidationError {
            #expect(error.message.contains("KEEL_CALLBACK_TOKEN"))
        }
        do {
            _ = try await CallbackEndpoint.resolve(url: nil, tokenFile: nil, environment: [:])
            Issue.record("a missing URL was accepted")
        } catch let error as ValidationError {
            #expect(error.message.contains("KEEL_CALLBACK_URL"))
        }
        await #expect(throws: ValidationError.self) {
            try await CallbackEndpoint.resolve(
                url: "ftp://gateway.test/", tokenFile: nil, environment: environment)
        }
    }

    @Test func aTokenFileOverridesTheEnvironment() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try Data("kcb1.from.file.mac\n".utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let endpoint = try await CallbackEndpoint.resolve(
            url: "http://user:pw@gateway.test/v1/callbacks", tokenFile: path.path,
            environment: ["KEEL_CALLBACK_TOKEN": "kcb1.from.env.mac"])
        #expect(endpoint.token == "kcb1.from.file.mac")
        #expect(endpoint.displayURL == "http://gateway.test/v1/callbacks")
    }

    @Test func retriesWaitExponentiallyWithJitterUpToThirtySeconds() {
        func delay(_ failures: Int, _ fraction: Double, after: Duration? = nil) -> Duration {
            CallbackRetrier.delay(afterFailures: failures, retryAfter: after, fraction: fraction)
        }
        #expect(delay(1, 0) == .milliseconds(250) && delay(1, 1) == .milliseconds(500))
        #expect(delay(2, 0) == .milliseconds(500) && delay(2, 1) == .seconds(1))
        #expect(delay(3, 0.5) == .milliseconds(1500))
        #expect(delay(12, 0) == .seconds(15) && delay(12, 1) == .seconds(30))
        #expect(delay(1, 0, after: .seconds(10)) == .seconds(10))
        #expect(delay(1, 0, after: .seconds(3600)) == .seconds(30))
    }

    @Test func onlyNoAnswerServerErrorsAndTooManyRequestsAreRetried() {
        for status in [500, 502, 503, 504, 429] {
            #expect(CallbackExchange.answered(status: status, body: Data(), retryAfter: nil).isTransient)
        }
        for status in [200, 202, 400, 401, 404, 409, 410, 413, 422] {
            #expect(!CallbackExchange.answered(status: status, body: Data(), retryAfter: nil).isTransient)
        }
        #expect(CallbackExchange.unanswered(reason: "connection refused").isTransient)
    }

    @Test func eachOutcomeIsOneLine() throws {
        func summary(_ json: String) throws -> String {
            try #require(CallbackAnswer.decode(Data(json.utf8))).summary
        }
        #expect(
            try summary(
                #"{"outcome":"applied","wait":{"wait_id":"r:deploy:1:wait","status":"succeeded","closed_at":"2026-11-27T11:00:00Z"}}"#
            )
                == "applied: wait r:deploy:1:wait succeeded")
        #expect(
            try summary(
                #"{"outcome":"already_answered","wait":{"wait_id":"r:deploy:1:wait","status":"failed","closed_at":"2026-11-27T11:00:00Z"}}"#
            )
                == "already answered: wait r:deploy:1:wait failed at 2026-11-27T11:00:00Z")
        #expect(try summary(#"{"outcome":"kept_early"}"#) == "kept until its wait opens")
        #expect(
            try summary(#"{"outcome":"heartbeat","next_heartbeat_due":"2026-11-27T11:05:00Z"}"#)
                == "heartbeat recorded; next due 2026-11-27T11:05:00Z")
        #expect(
            try summary(#"{"outcome":"heartbeat","next_heartbeat_due":null}"#)
                == "heartbeat recorded; no further heartbeat due")
        #expect(CallbackAnswer.decode(Data(#"{"outcome":"exploded"}"#.utf8)) == nil)
        #expect(CallbackAnswer.decode(Data("<html>".utf8)) == nil)
    }

    @Test func refusalsPrintTitleDetailPointersAndTheClosedWait() {
        let invalid = CallbackRefusal.failure(
            status: 422,
            body: Data(
                #"{"type":"/problems/invalid-callback","title":"Invalid callback","status":422,"detail":"the output does not match the wait's schema","errors":[{"pointer":"/output/p50_ms","detail":"expected an integer"},{"pointer":"","detail":"x"}]}"#
                    .utf8),
            gateway: "http://gateway.test/v1/callbacks")
        #expect(invalid.exitCode.rawValue == 1)
        #expect(
            invalid.message
                == "Invalid callback: the output does not match the wait's schema (HTTP 422)\n"
                + "  /output/p50_ms: expected an integer\n  (body): x")

        let closed = CallbackRefusal.failure(
            status: 409,
            body: Data(
                #"{"type":"/problems/wait-closed","title":"Wait closed","status":409,"detail":"the wait timed out","wait":{"wait_id":"r:deploy:1:wait","status":"timed_out","closed_at":"2026-11-27T11:00:00Z"}}"#
                    .utf8),
            gateway: "http://gateway.test/v1/callbacks")
        #expect(closed.exitCode.rawValue == 1)
        #expect(
            closed.message.hasSuffix("\n  wait r:deploy:1:wait timed_out at 2026-11-27T11:00:00Z"))

        let expired = CallbackRefusal.failure(
            status: 410, body: Data(#"{"title":"Callback token expired","status":410}"#.utf8),
            gateway: "http://gateway.test/v1/callbacks")
        #expect(expired.message == "Callback token expired (HTTP 410)")

        let unauthorised = CallbackRefusal.failure(
            status: 401, body: Data(), gateway: "http://gateway.test/v1/callbacks")
        #expect(unauthorised.exitCode.rawValue == 1)
        #expect(
            unauthorised.message.hasPrefix(
                "HTTP 401 from the callback-gateway at http://gateway.test"))
        #expect(unauthorised.message.contains("KEEL_CALLBACK_TOKEN"))
    }
}
