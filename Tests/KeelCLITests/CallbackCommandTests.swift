import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// The built `keel callback`, run as a worker runs it, against a scripted gateway: what it sends, what it
/// retries, what it prints and how it exits. The token is checked to appear in the Authorization header
/// and nowhere in the output (standard output and error together).
@Suite struct CallbackCommandTests {
    let token = "kcb1.test.claims-\(UUID().uuidString).mac"

    func keel(_ arguments: [String], url: String?, extra: [String: String] = [:]) async throws -> (
        status: Int32, output: String
    ) {
        var environment = extra
        environment["KEEL_CALLBACK_TOKEN"] = token
        if let url { environment["KEEL_CALLBACK_URL"] = url }
        let result = try await ServiceProcess.run(
            "keel", arguments: ["callback"] + arguments, environment: environment)
        #expect(!result.output.contains(token), "the token was printed")
        #expect(!result.output.contains(String(token.dropFirst(10))), "part of the token was printed")
        return result
    }

    static let applied = ScriptedCallbackGateway.Answer.json(
        200,
        #"{"outcome":"applied","wait":{"wait_id":"r1:deploy:1:wait","status":"succeeded","closed_at":"2026-11-27T11:00:00Z"}}"#
    )

    static func problem(_ status: Int, _ type: String, _ title: String, _ detail: String, extra: String = "")
        -> ScriptedCallbackGateway.Answer
    {
        .json(
            status,
            #"{"type":"/problems/\#(type)","title":"\#(title)","status":\#(status),"detail":"\#(detail)"\#(extra)}"#
        )
    }

    @Test func serverErrorsAreRetriedUntilTheCallbackIsApplied() async throws {
        let unavailable = Self.problem(503, "unavailable", "Service Unavailable", "database unreachable")
        let gateway = ScriptedCallbackGateway(callbacks: [unavailable, unavailable, Self.applied])
        try await gateway.serve { url in
            let result = try await keel(["--status", "succeeded", "--output", #"{"p50_ms": 12}"#], url: url)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("applied: wait r1:deploy:1:wait succeeded"))
            #expect(result.output.components(separatedBy: "trying again in").count == 3)
        }
        let requests = gateway.received
        #expect(requests.count == 3)
        for request in requests {
            #expect(request.path == "/v1/callbacks")
            #expect(request.headers["authorization"] == "Bearer " + token)
            #expect(request.headers["content-type"] == "application/json")
            #expect(
                try JSONValue(parsing: request.text) == ["status": "succeeded", "output": ["p50_ms": 12]])
        }
    }

    @Test func anUnauthorisedCallbackIsNotRetried() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [
            Self.problem(
                401, "invalid-callback-token", "Invalid callback token", "the signature does not match")
        ])
        try await gateway.serve { url in
            let result = try await keel(["--status", "failed"], url: url)
            #expect(result.status == 1)
            #expect(result.output.contains("Invalid callback token: the signature does not match (HTTP 401)"))
            #expect(result.output.contains("KEEL_CALLBACK_TOKEN"))
        }
        #expect(gateway.received.count == 1)
    }

    @Test func aClosedWaitStopsWithItsAnswer() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [
            Self.problem(
                409, "wait-closed", "Wait closed", "the wait timed out before the callback",
                extra:
                    #","wait":{"wait_id":"r1:deploy:1:wait","status":"timed_out","closed_at":"2026-11-27T11:00:00Z"}"#
            )
        ])
        try await gateway.serve { url in
            let result = try await keel(["--status", "succeeded"], url: url)
            #expect(result.status == 1)
            #expect(result.output.contains("Wait closed: the wait timed out before the callback (HTTP 409)"))
            #expect(result.output.contains("wait r1:deploy:1:wait timed_out at 2026-11-27T11:00:00Z"))
        }
        #expect(gateway.received.count == 1)
    }

    @Test func anInvalidOutputNamesEachBadField() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [
            Self.problem(
                422, "invalid-callback", "Invalid callback", "the output does not match the wait's schema",
                extra: #","errors":[{"pointer":"/output/p50_ms","detail":"expected an integer"}]"#)
        ])
        try await gateway.serve { url in
            let result = try await keel(
                ["--status", "succeeded", "--output", #"{"p50_ms": "fast"}"#], url: url)
            #expect(result.status == 1)
            #expect(result.output.contains("/output/p50_ms: expected an integer"))
        }
        #expect(gateway.received.count == 1)
    }

    @Test func aResourceIsUploadedFirstAndTheCallbackNamesIt() async throws {
        let content = "line 1\nline 2\n" + String(repeating: "x", count: 200_000)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "build-\(UUID().uuidString).log")
        try Data(content.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let sha256 = ContentDigest.sha256Hex(of: Array(content.utf8))
        let reference = "res:sha256:" + sha256
        let gateway = ScriptedCallbackGateway(
            callbacks: [Self.applied],
            uploads: [
                .json(503, #"{"title":"Service Unavailable","status":503}"#),
                .json(
                    201,
                    #"{"resource":"\#(reference)","name":"log","media_type":"text/plain","size":\#(content.utf8.count),"sha256":"\#(sha256)"}"#
                ),
            ])
        try await gateway.serve { url in
            let result = try await keel(
                ["--status", "succeeded", "--output", #"{"ok": true}"#, "--resource", "log=" + path.path],
                url: url)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("applied: wait r1:deploy:1:wait succeeded"))
        }
        let requests = gateway.received
        #expect(
            requests.map(\.path) == ["/v1/callbacks/resources", "/v1/callbacks/resources", "/v1/callbacks"])
        let upload = try #require(requests.first)
        #expect(upload.query == "name=log")
        #expect(upload.headers["content-type"] == "text/plain")
        #expect(upload.headers["keel-content-sha256"] == sha256)
        #expect(upload.headers["authorization"] == "Bearer " + token)
        #expect(upload.body == Array(content.utf8))
        let callback = try #require(requests.last)
        #expect(
            try JSONValue(parsing: callback.text)
                == [
                    "status": "succeeded", "output": ["ok": true],
                    "resources": [["name": "log", "resource": .string(reference)]],
                ])
    }

    @Test func aHeartbeatSendsProgressAndSaysWhenTheNextIsDue() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [
            .json(200, #"{"outcome":"heartbeat","next_heartbeat_due":"2026-11-27T11:05:00Z"}"#)
        ])
        try await gateway.serve { url in
            let result = try await keel(["--heartbeat", "--output", #"{"done": 3, "of": 10}"#], url: url)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("heartbeat recorded; next due 2026-11-27T11:05:00Z"))
        }
        #expect(
            try gateway.received.map { try JSONValue(parsing: $0.text) } == [
                ["status": "heartbeat", "output": ["done": 3, "of": 10]]
            ])
    }

    @Test func repeatsAndEarlyCallbacksAreSuccessesAndJSONPrintsTheAnswer() async throws {
        let repeated =
            #"{"outcome":"already_answered","wait":{"wait_id":"r1:deploy:1:wait","status":"succeeded","closed_at":"2026-11-27T11:00:00Z"}}"#
        let gateway = ScriptedCallbackGateway(callbacks: [
            .json(200, repeated), .json(202, #"{"outcome":"kept_early"}"#),
        ])
        try await gateway.serve { url in
            let again = try await keel(["--status", "succeeded", "--json"], url: url)
            #expect(again.status == 0, "\(again.output)")
            #expect(try JSONValue(parsing: again.output) == JSONValue(parsing: repeated))
            let early = try await keel(["--status", "partial"], url: url)
            #expect(early.status == 0, "\(early.output)")
            #expect(early.output.contains("kept until its wait opens"))
        }
    }

    @Test func givesUpWithExit2WhenTheGatewayStaysDown() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [])
        try await gateway.serve { url in
            let result = try await keel(["--status", "succeeded", "--retry-for", "2s"], url: url)
            #expect(result.status == 2, "\(result.output)")
            #expect(result.output.contains("gave up on the callback"))
            #expect(result.output.contains("--retry-for"), "\(result.output)")
        }
        // How many tries fit in the budget depends on the machine's load; that a 5xx is retried at all is
        // shown by `serverErrorsAreRetriedUntilTheCallbackIsApplied`, with no clock involved.
        #expect(gateway.received.count >= 1)
    }

    @Test func badOutputIsAUsageErrorNamingTheFlagAndSendsNothing() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [Self.applied])
        try await gateway.serve { url in
            let result = try await keel(["--status", "succeeded", "--output", "{p50_ms: 12}"], url: url)
            #expect(result.status == 64)
            #expect(result.output.contains("--output: not valid JSON"))
            let array = try await keel(["--status", "succeeded", "--output", "[1]"], url: url)
            #expect(array.status == 64)
            #expect(array.output.contains("expected a JSON object, got an array"))
        }
        #expect(gateway.received.isEmpty)
    }

    @Test func unreadableInputsAreUsageErrorsAndSendNothing() async throws {
        let gateway = ScriptedCallbackGateway(callbacks: [Self.applied])
        try await gateway.serve { url in
            let missing = try await keel(
                ["--status", "succeeded", "--resource", "log=/nonexistent/\(UUID().uuidString).log"], url: url
            )
            #expect(missing.status == 64)
            #expect(missing.output.contains("--resource log=/nonexistent/"))
            #expect(missing.output.contains("no such file"))
            // Standard input is /dev/null here: empty is not JSON.
            let empty = try await keel(["--status", "succeeded", "--output", "@-"], url: url)
            #expect(empty.status == 64)
            #expect(empty.output.contains("--output @-: not valid JSON"))
            #expect(empty.output.contains("Usage: keel callback"))
        }
        #expect(gateway.received.isEmpty)
    }

    @Test func theOutputMayComeFromAFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "out-\(UUID().uuidString).json")
        try Data(#"{"version": "1.4.2"}"#.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let gateway = ScriptedCallbackGateway(callbacks: [Self.applied])
        try await gateway.serve { url in
            let result = try await keel(["--status", "succeeded", "--output", "@" + path.path], url: url)
            #expect(result.status == 0, "\(result.output)")
        }
        #expect(
            try gateway.received.map { try JSONValue(parsing: $0.text) } == [
                ["status": "succeeded", "output": ["version": "1.4.2"]]
            ])
    }

    @Test func aMissingURLIsAUsageErrorNamingTheVariable() async throws {
        let result = try await keel(["--status", "succeeded"], url: nil)
        #expect(result.status == 64)
        #expect(result.output.contains("KEEL_CALLBACK_URL"))
    }
}
