import Foundation
import KeelStore
import KeelTestSupport
import Testing

/// The approval-service's decision endpoint against hostile clients: the real executable on the real
/// PostgreSQL. Every bad request gets a specific RFC 9457 problem naming the field where there is one,
/// records nothing, and leaves the gate decidable; the service's memory stays flat.
@Suite(.serialized) struct HostileApprovalAPITests {
    static let flow = """
        flow: hostile-gate
        steps:
          - id: review
            approval: {approvers: ["group:reviewers"]}
          - id: after
            needs: [review]
            noop: {}
        """

    struct BadRequest {
        var name: String
        var path: String? = nil
        var token: String? = nil
        var body: [UInt8]
        var status: Int
        var type: String
        var pointer: String? = nil
    }

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func badRequests(id: String, token: String) -> [BadRequest] {
        let decide =
            "/v1/approvals/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)/decision"
        return [
            BadRequest(name: "not JSON", body: json("{nope"), status: 400, type: "/problems/malformed-body"),
            BadRequest(
                name: "invalid UTF-8",
                body: json(#"{"decision": "approve", "note": ""#) + [0xC3, 0x28] + json(#""}"#),
                status: 400, type: "/problems/malformed-body"),
            BadRequest(
                name: "deep nesting over the size limit",
                body: json(#"{"decision": "approve", "note": "#)
                    + Array(repeating: UInt8(ascii: "["), count: 100_000)
                    + Array(repeating: UInt8(ascii: "]"), count: 100_000) + json("}"),
                status: 413, type: "/problems/body-too-large"),
            BadRequest(
                name: "deep nesting within the size limit",
                body: json(#"{"decision": "approve", "note": "#)
                    + Array(repeating: UInt8(ascii: "["), count: 20_000)
                    + Array(repeating: UInt8(ascii: "]"), count: 20_000) + json("}"),
                status: 400, type: "/problems/malformed-body"),
            BadRequest(
                name: "NUL in the note", body: json(#"{"decision": "approve", "note": "ok\u0000"}"#),
                status: 422,
                type: "/problems/invalid-body", pointer: "/note"),
            BadRequest(
                name: "NUL in the decision", body: json(#"{"decision": "approve\u0000"}"#), status: 422,
                type: "/problems/invalid-body", pointer: "/decision"),
            BadRequest(
                name: "a wrong type", body: json(#"{"decision": 5}"#), status: 422,
                type: "/problems/invalid-body",
                pointer: "/decision"),
            BadRequest(
                name: "a huge number", body: json(#"{"decision": 1e999999}"#), status: 422,
                type: "/problems/invalid-body", pointer: "/decision"),
            BadRequest(
                name: "a bad digest", body: json(#"{"decision": "approve", "digests": ["\u0000"]}"#),
                status: 422,
                type: "/problems/invalid-body", pointer: "/digests/0"),
            BadRequest(
                name: "a 10 MiB body",
                body: json(#"{"decision": "approve", "note": ""#)
                    + Array(repeating: UInt8(ascii: "a"), count: 10 << 20)
                    + json(#""}"#),
                status: 413, type: "/problems/body-too-large"),
            BadRequest(
                name: "no token", token: "", body: json(#"{"decision": "approve"}"#), status: 401,
                type: "/problems/unauthorized"),
            BadRequest(
                name: "a forged token", token: "keel_0123456789abcdef_" + String(repeating: "A", count: 43),
                body: json(#"{"decision": "approve"}"#), status: 401, type: "/problems/unauthorized"),
            BadRequest(
                name: "an id holding NUL", path: "/v1/approvals/\(id)%00/decision",
                body: json(#"{"decision": "approve"}"#), status: 404, type: "/problems/approval-not-found"),
        ].map { request in
            var request = request
            if request.path == nil { request.path = decide }
            if request.token == nil { request.token = token }
            return request
        }
    }

    @Test func everyBadDecisionIsAnsweredWithItsProblemAndTheGateStaysDecidable() async throws {
        let rounds = TestEnvironment.value("KEEL_HOSTILE_ROUNDS").flatMap(Int.init) ?? 5
        let stack = try await EngineStack(flows: [Self.flow])
        let url = try await stack.startApprovalService()
        let service = try #require(stack.approvalService)
        let rui = try await stack.token("rui", groups: ["reviewers"])
        try await stack.trigger("hostile-gate", key: "h")
        let run = try await stack.runID(key: "h", flow: "hostile-gate")
        let client = ApprovalFlowTests.Client(url: url)
        let id = try #require(try await client.pending(run: run, step: "review", token: rui)["id"] as? String)
        let residentBefore = try #require(service.residentBytes)

        for _ in 0..<rounds {
            for bad in Self.badRequests(id: id, token: rui) {
                var headers = ["Content-Type": "application/json"]
                if let token = bad.token, !token.isEmpty { headers["Authorization"] = "Bearer \(token)" }
                let answer = try await TestHTTP.send(
                    "POST", url + (bad.path ?? ""), headers: headers, bytes: bad.body)
                #expect(
                    answer.status == bad.status, "\(bad.name): \(answer.status) \(answer.body.prefix(300))")
                #expect(
                    answer.headers["content-type"]?.hasPrefix("application/problem+json") == true,
                    "\(bad.name): \(answer.headers)")
                #expect(
                    answer.json?["type"] as? String == bad.type, "\(bad.name): \(answer.body.prefix(300))")
                #expect(answer.json?["status"] as? Int == bad.status, "\(bad.name)")
                if let pointer = bad.pointer {
                    let pointers = (answer.json?["errors"] as? [[String: Any]])?.compactMap {
                        $0["pointer"] as? String
                    }
                    #expect(pointers?.contains(pointer) == true, "\(bad.name): \(answer.body.prefix(300))")
                }
            }
        }
        let residentAfter = try #require(service.residentBytes)
        print(
            "hostile approval API: \(rounds) rounds of \(Self.badRequests(id: id, token: rui).count) bad requests; "
                + "approval-service RSS \(residentBefore >> 20) MiB before, \(residentAfter >> 20) MiB after")
        #expect(
            residentAfter - residentBefore < 64 << 20,
            "approval-service grew by \((residentAfter - residentBefore) >> 20) MiB")

        // What the HTTP parser refuses is answered in the same format, and the connection ends; so does
        // a 413, without reading the rest of a body the route would not read.
        let port = try #require(URL(string: url)?.port)
        let path = "/v1/approvals/\(id)/decision"
        for (name, request, type) in [
            (
                "NUL in a header",
                Self.json("POST \(path) HTTP/1.1\r\nHost: x\r\nX-Note: a") + [0]
                    + Self.json("b\r\nContent-Length: 2\r\n\r\n{}"), "/problems/malformed-request"
            ),
            (
                "headers over the limit",
                Self.json(
                    "POST \(path) HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 200_000))\r\n\r\n"
                ),
                "/problems/malformed-request"
            ),
            (
                "a request line that is not HTTP", Self.json("POST \(path) HTTP/9\r\nHost: x\r\n\r\n"),
                "/problems/malformed-request"
            ),
            (
                // Announces 10 MiB and sends 2: a server that drained the body would wait for the rest.
                "a body over the limit, connection kept alive",
                Self.json(
                    "POST \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(rui)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(10 << 20)\r\n\r\n")
                    + Array(repeating: UInt8(ascii: " "), count: 2 << 20),
                "/problems/body-too-large"
            ),
        ] {
            let answer = try await TestHTTP.sendRaw(port: port, request)
            #expect(
                answer.status == (type == "/problems/body-too-large" ? 413 : 400), "\(name): \(answer.status)"
            )
            #expect(answer.headers["content-type"]?.hasPrefix("application/problem+json") == true, "\(name)")
            #expect(answer.headers["connection"] == "close", "\(name): \(answer.headers)")
            #expect(answer.json?["type"] as? String == type, "\(name): \(answer.body.prefix(300))")
        }

        // Nothing was recorded; the gate is still decidable, once.
        let decisions = try await stack.pool.withConnection {
            try await $0.query("SELECT count(*)::int8 FROM approval_decisions").first?.decode((Int).self)
        }
        #expect(decisions == 0)
        let approved = try await client.decide(id, "approve", token: rui)
        #expect(approved.status == 200, "\(approved.body)")
        #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
        #expect(!service.output.contains(rui), "the token is in the approval-service's log")
        try await stack.stop()
    }
}
