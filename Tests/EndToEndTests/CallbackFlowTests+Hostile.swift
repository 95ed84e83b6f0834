import AMQPClient
import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// Hostile callbacks against the real callback-gateway, over HTTP and AMQP: each is answered with its own
/// problem (RFC 9457) — over AMQP on `reply_to`, and dead-lettered with `keel-reason` — changes nothing,
/// leaves no token in a dead letter or log line, and does not make the gateway grow; a genuine callback
/// sent after all of them is applied, once.
extension CallbackFlowTests {
    /// One hostile callback: the body (over AMQP the token goes into it as `"token"`), the token, and the
    /// answer it must get.
    struct Hostile {
        var label: String
        var body: [UInt8]
        var token: String?
        var status: Int
        var type: String
        /// The dead letter's `keel-reason` over AMQP.
        var reason: String
        /// Extra header bytes over HTTP (`Name: value\r\n`), or AMQP headers.
        var httpHeader: [UInt8] = []
        var amqpHeaders: AMQPTable = [:]
        /// Over HTTP, a NUL in a header: refused by the HTTP parser, before any handler.
        var refusedByTheHTTPParser = false
        /// Over one channel only.
        var httpOnly = false
        var amqpOnly = false
    }

    static let tenMiB = 10 << 20

    func hostileCallbacks(_ testbed: CallbackTestbed, run: String) throws -> [Hostile] {
        let token = testbed.token(run: run, step: "job")
        let forged = testbed.token(
            run: run, step: "job",
            keys: try CallbackKeyRing(keys: ["e2e": Array(repeating: 7, count: 32)], signingKeyID: "e2e"))
        let expired = testbed.token(run: run, step: "job", expires: Date().addingTimeInterval(-5))
        let invalid = "/problems/invalid-callback"
        let malformed = "/problems/malformed-body"
        let badToken = "/problems/invalid-callback-token"
        func json(_ text: String) -> [UInt8] { Array(text.utf8) }
        let ok = #""output": {"result": "ok"}"#
        let wait = "\(run):job:1:wait"
        return [
            Hostile(
                label: "NUL in status", body: json(#"{"status": "succeeded\u0000", \#(ok)}"#), token: token,
                status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "NUL in an output value",
                body: json(#"{"status": "succeeded", "output": {"result": "o\u0000k"}}"#), token: token,
                status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "NUL in an output key",
                body: json(#"{"status": "succeeded", "output": {"result": "ok", "k\u0000": 1}}"#),
                token: token,
                status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "NUL in wait_id",
                body: json(#"{"status": "succeeded", \#(ok), "wait_id": "\#(wait)\u0000"}"#), token: token,
                status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "NUL in a resource name",
                body: json(
                    #"{"status": "succeeded", \#(ok), "resources": [{"name": "l\u0000g", "resource": "res:sha256:\#(String(repeating: "ab", count: 32))"}]}"#
                ), token: token, status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "NUL in a resource reference",
                body: json(
                    #"{"status": "succeeded", \#(ok), "resources": [{"name": "log", "resource": "res:sha256:\u0000"}]}"#
                ), token: token, status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "a raw NUL byte in a string",
                body: json("{\"status\": \"succeeded\", \"output\": {\"result\": \"o\0k\"}}"),
                token: token, status: 400, type: malformed, reason: "malformed"),
            Hostile(
                label: "NUL in the token", body: json(#"{"status": "succeeded", \#(ok)}"#),
                token: String(token.dropLast(4)) + "\u{0}abc", status: 401, type: badToken,
                reason: "unauthorized",
                refusedByTheHTTPParser: true),
            Hostile(
                label: "invalid UTF-8",
                body: json(#"{"status": "succeeded", "output": {"result": ""#) + [0xFF, 0xFE, 0xC3]
                    + json(#""}}"#),
                token: token, status: 400, type: malformed, reason: "malformed"),
            Hostile(
                label: "a 10 MiB body",
                body: json(#"{"status": "succeeded", "output": {"result": ""#)
                    + Array(repeating: UInt8(ascii: "x"), count: Self.tenMiB) + json(#""}}"#),
                token: token, status: 413, type: "/problems/body-too-large", reason: "refused"),
            Hostile(
                label: "deep nesting",
                body: json(#"{"status": "succeeded", "output": {"result": "ok", "deep": "#)
                    + Array(repeating: UInt8(ascii: "["), count: 100_000)
                    + Array(repeating: UInt8(ascii: "]"), count: 100_000) + json("}}"),
                token: token, status: 400, type: malformed, reason: "malformed"),
            Hostile(
                label: "a huge number",
                body: json(#"{"status": "succeeded", "output": {"result": "ok", "n": 1e999999}}"#),
                token: token,
                status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "wrong types",
                body: json(#"{"status": 5, "output": {"result": 5}, "resources": {"log": 1}, "wait_id": 7}"#),
                token: token, status: 422, type: invalid, reason: "invalid"),
            Hostile(
                label: "not an object", body: json("[1, 2]"), token: token, status: 422, type: invalid,
                reason: "invalid", httpOnly: true),
            Hostile(
                label: "a forged token", body: json(#"{"status": "succeeded", \#(ok)}"#), token: forged,
                status: 401, type: badToken, reason: "unauthorized"),
            Hostile(
                label: "an expired token", body: json(#"{"status": "succeeded", \#(ok)}"#), token: expired,
                status: 410, type: "/problems/callback-token-expired", reason: "expired"),
            Hostile(
                label: "NUL in a header value", body: json(#"{"status": "succeeded", \#(ok)}"#),
                token: forged,
                status: 401, type: badToken, reason: "unauthorized",
                httpHeader: Array("X-Note: be\u{0}fore\r\n".utf8),
                amqpHeaders: ["x-note": .string("be\u{0}fore"), "traceparent": .string("00-\u{0}")],
                refusedByTheHTTPParser: true),
        ]
    }

    /// The gateway's log lines about dead letters, for a failure message: when it cannot publish its
    /// redacted copy, it hands the original to the broker, and only its log says why.
    static func deadLetterLines(_ output: String) -> String {
        output.split(separator: "\n").filter { $0.contains("dead") }.suffix(6).map { String($0.prefix(400)) }
            .joined(separator: "\n")
    }

    /// The whole HTTP request, bytes as they are.
    func rawRequest(_ hostile: Hostile) -> [UInt8] {
        var head = Array(
            "POST /v1/callbacks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".utf8)
        if let token = hostile.token { head += Array("Authorization: Bearer \(token)\r\n".utf8) }
        head += hostile.httpHeader
        head += Array("Content-Length: \(hostile.body.count)\r\nConnection: close\r\n\r\n".utf8)
        return head + hostile.body
    }

    /// The AMQP message: the body with `"token"` first.
    func amqpBody(_ hostile: Hostile) -> [UInt8] {
        guard let token = hostile.token, hostile.body.first == UInt8(ascii: "{") else { return hostile.body }
        var escaped = ""
        for scalar in token.unicodeScalars {
            escaped += scalar.value < 0x20 ? String(format: "\\u%04x", scalar.value) : String(scalar)
        }
        return Array("{\"token\": \"\(escaped)\", ".utf8) + hostile.body.dropFirst()
    }

    @Test func hostileCallbacksOverHTTPAndAMQPAreEachRefusedAndTheGatewayStaysWell() async throws {
        try await withStack(flows: { _ in [Self.waitFlow] }) { stack, testbed, gateway in
            try await stack.trigger("callback-wait", key: "hostile")
            let run = try await stack.runID(key: "hostile", flow: "callback-wait")
            _ = try await openWait(stack, run: run, step: "job")
            let process = try #require(stack.callbackGateway as ServiceProcess?)
            let hostiles = try hostileCallbacks(testbed, run: run)
            let replies = "callback-replies-\(UUID().uuidString)"
            try await stack.channel.declareQueue(replies, durable: false, exclusive: true, autoDelete: true)

            var resident: [Int] = [process.residentBytes ?? 0]
            let rounds = Int(ProcessInfo.processInfo.environment["KEEL_HOSTILE_ROUNDS"] ?? "") ?? 4
            for round in 1...rounds {
                for hostile in hostiles where !hostile.amqpOnly {
                    let answer = try await TestHTTP.sendRaw(port: testbed.gatewayPort, rawRequest(hostile))
                    let label = "HTTP, round \(round), \(hostile.label)"
                    if hostile.refusedByTheHTTPParser {
                        // swift-nio's HTTP/1.1 parser refuses a NUL in a header before the gateway sees the
                        // request: a bare 400, the connection closed.
                        #expect(answer.status == 400, "\(label): \(answer.status) \(answer.body.prefix(300))")
                        continue
                    }
                    #expect(
                        answer.status == hostile.status,
                        "\(label): \(answer.status) \(answer.body.prefix(300))")
                    #expect(answer.headers["content-type"] == "application/problem+json", "\(label)")
                    #expect(
                        answer.json?["type"] as? String == hostile.type,
                        "\(label): \(answer.body.prefix(300))")
                    #expect(answer.json?["status"] as? Int == hostile.status, "\(label)")
                    #expect(!answer.body.contains("kcb1."), "\(label): the answer repeats a token")
                }
                var sent: [String: Hostile] = [:]
                for hostile in hostiles where !hostile.httpOnly {
                    let id = "\(round)-\(UUID().uuidString)"
                    sent[id] = hostile
                    try await stack.channel.publish(
                        amqpBody(hostile), exchange: "keel.callbacks", routingKey: "callback",
                        properties: AMQPProperties(
                            contentType: "application/json", headers: hostile.amqpHeaders, correlationID: id,
                            replyTo: replies, messageID: id),
                        mandatory: true)
                }
                for _ in sent {
                    let reply = try await get(stack, queue: replies)
                    let id = reply.properties.correlationID ?? ""
                    let hostile = try #require(sent[id], "a reply for no message sent: \(id)")
                    let label = "AMQP, round \(round), \(hostile.label)"
                    let body = try JSONValue(parsing: reply.body).objectValue
                    #expect(
                        body?["type"]?.stringValue == hostile.type, "\(label): \(String(describing: body))")
                    #expect(body?["status"] == .number(JSONNumber(hostile.status)), "\(label)")
                }
                for _ in sent {
                    let dead = try await get(stack, queue: "keel.dead.keel.callbacks")
                    let id = dead.properties.correlationID ?? ""
                    let removed = sent.removeValue(forKey: id)
                    let hostile = try #require(removed, "an unexpected dead letter: \(id)")
                    let label = "AMQP dead letter, round \(round), \(hostile.label)"
                    #expect(
                        dead.properties.headers["keel-reason"]?.stringValue == hostile.reason,
                        "\(label); the gateway said: \(Self.deadLetterLines(process.output))")
                    #expect(dead.properties.headers["keel-error"]?.stringValue?.isEmpty == false, "\(label)")
                    #expect(
                        !String(decoding: dead.body, as: UTF8.self).contains("kcb1."), "\(label): a token")
                    for (name, value) in dead.properties.headers {
                        #expect(value.stringValue?.contains("kcb1.") != true, "\(label): a token in \(name)")
                        #expect(value.stringValue?.contains("\u{0}") != true, "\(label): U+0000 in \(name)")
                    }
                }
                #expect(sent.isEmpty, "not dead-lettered: \(sent.values.map(\.label))")
                resident.append(process.residentBytes ?? 0)
            }
            #expect(try await stack.status(run) == "waiting")
            #expect(try await callbacks(stack, run).isEmpty)

            // After all of them, a genuine callback is applied; its replay is answered and changes nothing.
            let token = testbed.token(run: run, step: "job")
            let applied = try await post(
                gateway, token: token, #"{"status": "succeeded", "output": {"result": "ok"}}"#)
            #expect(applied.status == 200, "\(applied.body)")
            #expect(applied.json?["outcome"] as? String == "applied")
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            let replay = try await post(
                gateway, token: token, #"{"status": "succeeded", "output": {"result": "ok"}}"#)
            #expect(replay.status == 200, "\(replay.body)")
            #expect(replay.json?["outcome"] as? String == "already_answered")
            #expect(try await callbacks(stack, run).count == 1)
            try await stack.expectHistoryReplays(run)

            // The first round warms the gateway up (buffers, pools); the later ones must not keep growing.
            let mebibytes = resident.map { Double($0) / 1_048_576 }
            print(
                "callback-gateway VmRSS (MiB) before and after each round: \(mebibytes.map { String(format: "%.1f", $0) })"
            )
            #expect(resident.allSatisfy { $0 > 0 })
            #expect(resident[rounds] - resident[1] < 64 << 20, "the gateway grew: \(mebibytes)")
            #expect(!process.output.contains("kcb1."), "a token reached the gateway's log")
        }
    }
}
