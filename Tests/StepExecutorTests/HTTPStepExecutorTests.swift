import Foundation
import Hummingbird
import HummingbirdTesting
import KeelCore
import KeelStore
import KeelTestSupport
import Synchronization
import Testing

@testable import step_executor

/// `http` steps against a real HTTP server on 127.0.0.1 in this process: what is sent (method, headers,
/// the idempotency key, the JSON body), how statuses map to outcomes, big bodies, timeouts.
@Suite struct HTTPStepExecutorTests {
    /// What the server saw of the last request.
    final class Seen: Sendable {
        struct Request: Sendable {
            var method: String
            var path: String
            /// By lower-cased name.
            var headers: [String: String]
            var body: String
        }
        let requests = Mutex<[Request]>([])
        var last: Request? { requests.withLock { $0.last } }
    }

    /// The test server's routes; `/slow` answers only once `released` finishes.
    static func application(seen: Seen, released: AsyncStream<Void>) -> some ApplicationProtocol {
        let router = Router()
        router.on("echo", method: .post) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            seen.requests.withLock {
                $0.append(
                    Seen.Request(
                        method: request.method.rawValue, path: request.uri.path, headers: headers,
                        body: String(buffer: body)))
            }
            let answer = #"{"received":\#(String(buffer: body)),"ok":true}"#
            return Response(
                status: .created,
                headers: [
                    .contentType: "application/json; charset=utf-8", .eTag: "\"v1\"", .location: "/things/1",
                    .cacheControl: "no-store",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer)))
        }
        for method in [HTTPRequest.Method.get, .head] {
            router.on("status/{code}", method: method) { _, context -> Response in
                let code = try context.parameters.require("code", as: Int.self)
                return Response(
                    status: HTTPResponse.Status(code: code), headers: [.contentType: "text/plain"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "status \(code)")))
            }
        }
        router.get("big") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: String(repeating: "z", count: 100_000))))
        }
        router.get("big-json") { _, _ -> Response in
            let items = (0..<2000).map(String.init).joined(separator: ",")
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"items\":[\(items)]}")))
        }
        router.get("huge") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        repeating: UInt8(ascii: "h"), count: HTTPStepExecutor.maximumBodySize + 1)))
        }
        // The head at once, then a byte every 100 ms for ten seconds.
        router.get("trickle") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody { writer in
                    for _ in 0..<100 {
                        try await writer.write(ByteBuffer(string: "t"))
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("slow") { _, _ -> Response in
            for await _ in released {}
            return Response(status: .ok)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Runs `body` with the server's base URL, a fresh resource store and what the server saw.
    static func withServer(_ body: @escaping @Sendable (String, ResourceStore, Seen) async throws -> Void)
        async throws
    {
        try await withResourceStore { resources in
            let seen = Seen()
            let (released, release) = AsyncStream<Void>.makeStream()
            defer { release.finish() }
            try await application(seen: seen, released: released).test(.live) { client in
                let port = try #require(client.port)
                defer { release.finish() }
                try await body("http://127.0.0.1:\(port)", resources, seen)
            }
        }
    }

    static func httpStep(
        _ method: String = "GET", url: String, headers: [String: String] = [:], body: JSONValue? = nil,
        success: [HTTPStatusMatch] = HTTPAction.defaultSuccess, timeout: FlowDuration? = nil
    ) -> StepDefinition {
        StepDefinition(
            id: "notify",
            kind: .http(
                HTTPAction(
                    method: method, url: url, headers: headers, body: body, success: success, timeout: timeout
                )))
    }

    @Test func sendsMethodHeadersIdempotencyKeyAndRenderedJSONBody() async throws {
        try await Self.withServer { base, resources, seen in
            let step = Self.httpStep(
                "POST", url: "\(base)/echo", headers: ["X-Request-Tag": "tag-${{ input.tag }}"],
                body: [
                    "name": "${{ input.name }}", "count": "${{ input.count }}",
                    "list": ["a-${{ input.tag }}", 2],
                ])
            var attempt = work(step, input: ["name": "ada", "count": 3, "tag": "t1"])
            attempt.traceparent = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
            let outcome = try await StepKinds.testing(resources).execute(attempt)
            let request = try #require(seen.last)
            #expect(request.method == "POST")
            #expect(request.path == "/echo")
            #expect(request.headers["idempotency-key"] == attempt.idempotencyKey)
            #expect(request.headers["traceparent"] == attempt.traceparent)
            #expect(request.headers["x-request-tag"] == "tag-t1")
            #expect(request.headers["content-type"] == "application/json")
            let sent = try JSONValue(parsing: request.body)
            #expect(sent == ["name": "ada", "count": 3, "list": ["a-t1", 2]])

            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["status"] == 201)
            #expect(
                outputs["headers"]
                    == [
                        "content-type": "application/json; charset=utf-8", "etag": "\"v1\"",
                        "location": "/things/1",
                    ])
            #expect(outputs["body"] == ["received": sent, "ok": true])
        }
    }

    @Test(arguments: [
        (500, ErrorClass.transient), (503, .transient), (408, .transient), (429, .transient),
        (404, .permanent), (400, .permanent), (409, .permanent),
    ])
    func statusesOutsideSuccessFailWithTheirClass(status: Int, expected: ErrorClass) async throws {
        try await Self.withServer { base, resources, _ in
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep(url: "\(base)/status/\(status)")))
            #expect(outcome.errorClass == expected)
            #expect(outcome.message.contains("HTTP status \(status)"))
        }
    }

    @Test func successListsTheStatusesThatCount() async throws {
        try await Self.withServer { base, resources, _ in
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep(url: "\(base)/status/404", success: [.status(404), .statusClass(2)])))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["status"] == 404)
            #expect(outputs["body"] == "status 404")
            #expect(outputs["headers"] == ["content-type": "text/plain"])
        }
    }

    @Test func aBodyOverTheInlineLimitIsStoredAsAResource() async throws {
        try await Self.withServer { base, resources, _ in
            let attempt = work(Self.httpStep(url: "\(base)/big"))
            let outcome = try await StepKinds.testing(resources, inlineLimit: 1000).execute(attempt)
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let body = try #require(outputs["body"])
            #expect(body["type"] == "text/plain")
            #expect(try await resources.text(of: body) == String(repeating: "z", count: 100_000))
            let reference = try #require(ResourceStore.storedReference(in: body))
            #expect(try await resources.show(reference).name == "notify.1.body")
        }
    }

    @Test func aJSONBodyOverTheInlineLimitIsStoredAsJSON() async throws {
        try await Self.withServer { base, resources, _ in
            let outcome = try await StepKinds.testing(resources, inlineLimit: 1000).execute(
                work(Self.httpStep(url: "\(base)/big-json")))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let body = try #require(outputs["body"])
            #expect(body["type"] == "application/json")
            let stored = try JSONValue(parsing: try await resources.text(of: body))
            #expect(stored["items"]?.arrayValue?.count == 2000)
            #expect(stored["items"]?[1999] == 1999)
        }
    }

    @Test func anEmptyBodyIsNull() async throws {
        try await Self.withServer { base, resources, _ in
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep("HEAD", url: "\(base)/status/204")))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["status"] == 204)
            #expect(outputs["body"] == .null)
        }
    }

    @Test func aSlowServerTimesOut() async throws {
        try await Self.withServer { base, resources, _ in
            let started = ContinuousClock.now
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep(url: "\(base)/slow", timeout: FlowDuration(milliseconds: 300))))
            #expect(outcome.errorClass == .timeout)
            // The server never answers before the test releases it: only the timeout can end the attempt.
            #expect(ContinuousClock.now - started < .seconds(120))
        }
    }

    @Test func cancellationEndsTheExchange() async throws {
        try await Self.withServer { base, resources, _ in
            let kinds = StepKinds.testing(resources)
            let attempt = Task { try await kinds.execute(work(Self.httpStep(url: "\(base)/slow"))) }
            try await Task.sleep(for: .milliseconds(200))
            attempt.cancel()
            let outcome = try await attempt.value
            #expect(outcome.errorClass == .cancelled)
        }
    }

    @Test func aRefusedConnectionIsTransientAndABadURLPermanent() async throws {
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources)
            // Retried inside the client, it would end as `timeout` when the attempt's 10 minutes passed.
            let refused = try await kinds.execute(
                work(
                    Self.httpStep(
                        url: "http://127.0.0.1:1/nothing", timeout: FlowDuration(milliseconds: 600_000))))
            #expect(refused.errorClass == .transient)
            #expect(refused.message == "request failed: cannot connect to the host")
            let badURL = try await kinds.execute(
                work(Self.httpStep(url: "${{ input.where }}"), input: ["where": "ftp://x"]))
            #expect(badURL.errorClass == .permanent)
            #expect(badURL.message.hasPrefix("url: "))
        }
    }

    @Test func aBodyStillArrivingWhenTheTimeoutPassesTimesOut() async throws {
        try await Self.withServer { base, resources, _ in
            // The body takes ten seconds; an attempt whose deadline ended with the head would succeed.
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep(url: "\(base)/trickle", timeout: FlowDuration(milliseconds: 500))))
            #expect(outcome.errorClass == .timeout)
            #expect(outcome.message.hasPrefix("no complete response within"))
        }
    }

    @Test func aBodyOverSixteenMiBIsRefusedAsPermanent() async throws {
        try await Self.withServer { base, resources, _ in
            let outcome = try await StepKinds.testing(resources).execute(
                work(Self.httpStep(url: "\(base)/huge")))
            #expect(outcome.errorClass == .permanent)
            #expect(outcome.message == "the response body is larger than 16777216 bytes")
        }
    }

    @Test func aRenderedHeaderWithALineBreakIsRefusedBeforeAnythingIsSent() async throws {
        try await Self.withServer { base, resources, seen in
            let outcome = try await StepKinds.testing(resources).execute(
                work(
                    Self.httpStep(
                        "POST", url: "\(base)/echo", headers: ["X-Tag": "${{ input.tag }}"], body: [:]),
                    input: ["tag": "a\r\nX-Injected: 1"]))
            #expect(outcome.errorClass == .permanent)
            #expect(outcome.message == "headers.X-Tag: a header value cannot hold a line break")
            #expect(seen.last == nil, "nothing reached the server")
        }
    }

    @Test func secretsReachTheServerButNotTheOutputs() async throws {
        try await Self.withServer { base, resources, seen in
            let secret = "tok-9f8e7d6c5b"
            let step = Self.httpStep(
                "POST", url: "\(base)/echo", headers: ["Authorization": "Bearer ${{ secrets.API_TOKEN }}"],
                body: ["token": "${{ secrets.API_TOKEN }}"])
            let outcome = try await StepKinds.testing(resources, secrets: ["API_TOKEN": secret]).execute(
                work(step))
            #expect(seen.last?.headers["authorization"] == "Bearer \(secret)")
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["body"] == ["received": ["token": "***"], "ok": true])
            #expect(!JSONValue.object(outputs).jsonString().contains(secret))
        }
    }
}
