import Foundation
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// The operators' API on the real approval-service, trigger-intake and step-executor: every route
/// refuses a missing or forged token and a role below the one it documents, records what it changed
/// with who asked, and starts runs whose requester is the token's holder.
@Suite(.serialized) struct OperatorAPITests {
    static let gated = """
        flow: api-gated
        input:
          type: object
          required: [ticket]
          properties: {ticket: {type: string}}
        steps:
          - id: gate
            approval: {approvers: ["group:reviewers"]}
          - id: after
            needs: [gate]
            noop: {}
        """

    static let quick = """
        flow: api-quick
        steps:
          - id: only
            noop: {}
        """

    static let quickV2 = """
        flow: api-quick
        description: the second version
        steps:
          - id: only
            noop: {}
          - id: second
            needs: [only]
            noop: {}
        """

    struct Tokens {
        var approver: String
        var op: String
        var admin: String
    }

    func withAPI(_ body: (EngineStack, OperatorAPIClient, Tokens) async throws -> Void) async throws {
        let stack = try await EngineStack(flows: [Self.gated, Self.quick])
        do {
            let client = OperatorAPIClient(url: try await stack.startApprovalService())
            let tokens = Tokens(
                approver: try await stack.token("ava", groups: ["reviewers"]),
                op: try await stack.token("otto", role: .operator),
                admin: try await stack.token("ada", role: .admin))
            try await body(stack, client, tokens)
        } catch {
            try await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    /// Every operation of the document, with the least role it needs.
    static func routes(run: String) -> [(method: String, path: String, body: String?, role: APITokenRole)] {
        [
            ("GET", "/v1/runs", nil, .approver),
            ("GET", "/v1/runs/\(run)", nil, .approver),
            ("POST", "/v1/runs", #"{"flow": "api-quick", "wait_seconds": 0}"#, .operator),
            ("POST", "/v1/runs/\(run)/cancel", #"{"reason": "role check"}"#, .operator),
            ("POST", "/v1/runs/\(run)/retry", #"{"from_step": "only"}"#, .operator),
            ("GET", "/v1/flows", nil, .approver),
            ("GET", "/v1/flows/api-quick/versions", nil, .approver),
            ("GET", "/v1/flows/api-quick/versions/1", nil, .approver),
            ("GET", "/v1/flows/api-quick/releases", nil, .approver),
            ("GET", "/v1/flows/api-quick/diff?from=1&to=1", nil, .approver),
            ("POST", "/v1/flows/api-quick/release", #"{"version": 1}"#, .admin),
            ("POST", "/v1/flows/api-quick/rollback", #"{}"#, .admin),
            ("GET", "/v1/dead-letters", nil, .operator),
            ("GET", "/v1/tokens", nil, .admin),
            ("POST", "/v1/tokens", #"{"name": "made-by-role-check", "role": "approver"}"#, .admin),
            ("DELETE", "/v1/tokens/nobody", nil, .admin),
            ("GET", "/v1/actions", nil, .admin),
        ]
    }

    @Test("Every route answers 401 without a token or with a forged one, and 403 below its role")
    func everyRouteChecksTokenAndRole() async throws {
        try await withAPI { stack, api, tokens in
            try await stack.trigger("api-quick", key: "k-roles")
            let run = try await stack.runID(key: "k-roles", flow: "api-quick")
            _ = try await stack.finish(run, expected: "succeeded")
            let forged = "keel_0123456789abcdef_" + String(repeating: "A", count: 43)
            let byRole: [(APITokenRole, String)] = [
                (.approver, tokens.approver), (.operator, tokens.op), (.admin, tokens.admin),
            ]
            for route in Self.routes(run: run) {
                for token in [nil, forged, "Basic abc"] as [String?] {
                    let answer = try await api.send(route.method, route.path, token: token, body: route.body)
                    #expect(answer.status == 401, "\(route.method) \(route.path) with \(token ?? "no token")")
                    #expect(answer.problemType == "/problems/unauthorized")
                    #expect(answer.headers["content-type"] == "application/problem+json")
                }
                for (role, token) in byRole {
                    let answer = try await api.send(route.method, route.path, token: token, body: route.body)
                    if role < route.role {
                        #expect(answer.status == 403, "\(role) \(route.method) \(route.path): \(answer.body)")
                        #expect(answer.problemType == "/problems/role-required")
                    } else {
                        #expect(
                            ![401, 403].contains(answer.status),
                            "\(role) \(route.method) \(route.path): \(answer.body)")
                    }
                }
            }
            // Refusals for the role are recorded with who tried.
            let actions = try await api.get("/v1/actions?limit=500", token: tokens.admin)
            let forbidden = (actions.json?["actions"] as? [[String: Any]] ?? []).filter {
                $0["outcome"] as? String == "forbidden"
            }
            #expect(
                forbidden.contains {
                    $0["principal"] as? String == "ava" && $0["action"] as? String == "run.start"
                })
            #expect(
                forbidden.contains {
                    $0["principal"] as? String == "otto" && $0["action"] as? String == "flow.release"
                })
        }
    }

    @Test("A run started through the API has the token's holder as its authenticated requester")
    func startingARun() async throws {
        try await withAPI { stack, api, tokens in
            let started = try await api.post(
                "/v1/runs", token: tokens.op,
                body:
                    #"{"flow": "api-gated", "input": {"ticket": "OPS-17 needle"}, "idempotency_key": "start-1"}"#
            )
            #expect(started.status == 201, "\(started.body)")
            let runID = try #require(started.json?["run_id"] as? String)
            #expect(started.json?["requester"] as? String == "otto")
            #expect(started.json?["status"] as? String == "created")

            // The same key is the same run, not a second one.
            let repeated = try await api.post(
                "/v1/runs", token: tokens.op,
                body:
                    #"{"flow": "api-gated", "input": {"ticket": "OPS-17 needle"}, "idempotency_key": "start-1"}"#
            )
            #expect(repeated.status == 200)
            #expect(repeated.json?["run_id"] as? String == runID)

            // Separation of duties holds: otto cannot approve otto's run even in the reviewers group.
            let requester = try await stack.pool.withConnection { connection in
                try await connection.query("SELECT requester FROM runs WHERE id = \(UUID(uuidString: runID))")
                    .first?.decode((String?).self)
            }
            #expect(requester == "otto")

            // Listing by each filter finds it, and only where it should.
            for query in [
                "requester=otto", "flow=api-gated", "q=needle", "q=NEEDLE", "status=waiting",
                "since=2020-01-01T00:00:00Z",
            ] {
                let list = try await api.get("/v1/runs?" + query, token: tokens.approver)
                let ids = (list.json?["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(ids.contains(runID), "\(query): \(list.body)")
            }
            for query in [
                "requester=ada", "flow=api-quick", "q=haystack", "status=failed",
                "until=2020-01-01T00:00:00Z",
            ] {
                let list = try await api.get("/v1/runs?" + query, token: tokens.approver)
                #expect(list.status == 200)
                let ids = (list.json?["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(!ids.contains(runID), "\(query)")
            }

            // One run: its summary, timeline and history.
            let shown = try await api.get("/v1/runs/\(runID)", token: tokens.approver)
            #expect(shown.status == 200)
            #expect((shown.json?["run"] as? [String: Any])?["requester"] as? String == "otto")
            let history = shown.json?["history"] as? [[String: Any]] ?? []
            #expect(history.first?["kind"] as? String == "run.triggered")
            #expect(shown.json?["timeline"] is [String: Any])

            // A trigger trigger-intake refuses is answered with its reason, and shows in the dead letters.
            let invalid = try await api.post(
                "/v1/runs", token: tokens.op, body: #"{"flow": "api-gated", "input": {"ticket": 7}}"#)
            #expect(invalid.status == 422, "\(invalid.body)")
            #expect(invalid.problemType == "/problems/trigger-rejected/invalid_input")
            let unknown = try await api.post("/v1/runs", token: tokens.op, body: #"{"flow": "no-such-flow"}"#)
            #expect(unknown.status == 422)
            #expect(unknown.problemType == "/problems/trigger-rejected/unknown_flow")
            let dead = try await api.get("/v1/dead-letters", token: tokens.op)
            let reasons = (dead.json?["dead_letters"] as? [[String: Any]] ?? []).compactMap {
                $0["reason"] as? String
            }
            #expect(Set(reasons) == ["invalid_input", "unknown_flow"], "\(dead.body)")
        }
    }

    @Test(
        "Cancel and retry go through the engine, refuse what the run's state does not allow, and are recorded"
    )
    func cancelAndRetry() async throws {
        try await withAPI { stack, api, tokens in
            let started = try await api.post(
                "/v1/runs", token: tokens.op, body: #"{"flow": "api-gated", "input": {"ticket": "T-1"}}"#)
            let runID = try #require(started.json?["run_id"] as? String)
            _ = try await stack.waitForStatus(runID, "waiting")

            let retryTooSoon = try await api.post(
                "/v1/runs/\(runID)/retry", token: tokens.op, body: #"{"from_step": "gate"}"#)
            #expect(retryTooSoon.status == 409, "\(retryTooSoon.body)")

            let blank = try await api.post(
                "/v1/runs/\(runID)/cancel", token: tokens.op, body: #"{"reason": "  "}"#)
            #expect(blank.status == 400)
            #expect(blank.pointer == "/reason")

            let cancelled = try await api.post(
                "/v1/runs/\(runID)/cancel", token: tokens.op, body: #"{"reason": "wrong ticket"}"#)
            #expect(cancelled.status == 200, "\(cancelled.body)")
            #expect(cancelled.json?["fact"] as? String == "run.cancel_requested")
            #expect(cancelled.json?["status"] as? String == "cancelled")
            let again = try await api.post(
                "/v1/runs/\(runID)/cancel", token: tokens.op, body: #"{"reason": "twice"}"#)
            #expect(again.status == 409)

            let unknownStep = try await api.post(
                "/v1/runs/\(runID)/retry", token: tokens.op, body: #"{"from_step": "nope"}"#)
            #expect(unknownStep.status == 409)
            let retried = try await api.post(
                "/v1/runs/\(runID)/retry", token: tokens.op,
                body: #"{"from_step": "gate", "reason": "right ticket"}"#)
            #expect(retried.status == 200, "\(retried.body)")
            #expect(retried.json?["fact"] as? String == "run.retry_requested")
            _ = try await stack.waitForStatus(runID, "waiting")

            let missing = try await api.post(
                "/v1/runs/\(UUID().uuidString)/cancel", token: tokens.op, body: #"{"reason": "x"}"#)
            #expect(missing.status == 404)
            #expect(missing.problemType == "/problems/run-not-found")

            // The history says who: the token's holder, not anything the body claimed.
            let history =
                try await api.get("/v1/runs/\(runID)", token: tokens.op).json?["history"] as? [[String: Any]]
            let cancel = history?.first { $0["kind"] as? String == "run.cancel_requested" }
            #expect(cancel?["actor"] as? String == "otto")

            let actions =
                try await api.get("/v1/actions", token: tokens.admin).json?["actions"] as? [[String: Any]]
                ?? []
            let mine = actions.filter { $0["target"] as? String == runID }.map {
                "\($0["action"] as? String ?? "") \($0["outcome"] as? String ?? "")"
            }
            #expect(mine.contains("run.cancel done"))
            #expect(mine.contains("run.cancel refused"))
            #expect(mine.contains("run.retry done"))
            #expect(mine.contains("run.retry refused"))
        }
    }

    @Test("Flows, versions, releases and diffs read as the CLI shows them; release and rollback are admin's")
    func flowsAndReleases() async throws {
        try await withAPI { stack, api, tokens in
            let file = stack.scratch.appendingPathComponent("api-quick-v2.yaml")
            try Self.quickV2.write(to: file, atomically: true, encoding: .utf8)
            let pushed = try await ServiceProcess.run(
                "keel", arguments: ["flow", "push", file.path],
                environment: ["KEEL_DATABASE_URL": stack.database.url])
            #expect(pushed.status == 0, "\(pushed.output)")

            let flows =
                try await api.get("/v1/flows", token: tokens.approver).json?["flows"] as? [[String: Any]]
            let quick = flows?.first { $0["name"] as? String == "api-quick" }
            #expect(quick?["live_version"] as? Int == 1)
            #expect(quick?["latest_version"] as? Int == 2)

            let versions = try await api.get("/v1/flows/api-quick/versions", token: tokens.approver)
            #expect(
                (versions.json?["versions"] as? [[String: Any]])?.map { $0["live"] as? Bool } == [
                    true, false,
                ])
            let two = try await api.get("/v1/flows/api-quick/versions/2", token: tokens.approver)
            #expect((two.json?["source"] as? String)?.contains("the second version") == true)
            #expect(try await api.get("/v1/flows/api-quick/versions/9", token: tokens.approver).status == 404)
            #expect(try await api.get("/v1/flows/nope/versions", token: tokens.approver).status == 404)

            let diff = try await api.get("/v1/flows/api-quick/diff?from=1&to=2", token: tokens.approver)
            let lines = diff.json?["lines"] as? [String] ?? []
            #expect(lines.contains("+  - id: second"), "\(diff.body)")
            #expect(diff.json?["identical"] as? Bool == false)
            let badDiff = try await api.get("/v1/flows/api-quick/diff?from=one&to=2", token: tokens.approver)
            #expect(badDiff.status == 400)
            #expect(badDiff.problemType == "/problems/invalid-request")
            #expect(badDiff.pointer == "from")

            let released = try await api.post(
                "/v1/flows/api-quick/release", token: tokens.admin, body: #"{"reason": "ship v2"}"#)
            #expect(released.status == 200, "\(released.body)\n\(stack.logs)")
            #expect(released.json?["live_version"] as? Int == 2)
            #expect(released.json?["unchanged"] as? Bool == false)
            let unchanged = try await api.post(
                "/v1/flows/api-quick/release", token: tokens.admin, body: #"{"version": 2}"#)
            #expect(unchanged.status == 200)
            #expect(unchanged.json?["unchanged"] as? Bool == true)

            let rolledBack = try await api.post(
                "/v1/flows/api-quick/rollback", token: tokens.admin, body: #"{"reason": "v2 broke"}"#)
            #expect(rolledBack.json?["live_version"] as? Int == 1, "\(rolledBack.body)")
            let nothing = try await api.post(
                "/v1/flows/api-quick/rollback", token: tokens.admin, body: #"{}"#)
            #expect(nothing.status == 409)

            let releases = try await api.get("/v1/flows/api-quick/releases", token: tokens.approver)
            let entries = releases.json?["releases"] as? [[String: Any]] ?? []
            #expect(
                entries.map { "\($0["kind"] as? String ?? "") \($0["actor"] as? String ?? "")" }.suffix(2)
                    == [
                        "release ada", "rollback ada",
                    ])
        }
    }

    @Test("Tokens are made and revoked by admins through the API; the secret is shown once")
    func tokens() async throws {
        try await withAPI { stack, api, tokens in
            let made = try await api.post(
                "/v1/tokens", token: tokens.admin,
                body: #"{"name": "bot-1", "role": "operator", "groups": ["ops"]}"#)
            #expect(made.status == 201, "\(made.body)")
            let secret = try #require(made.json?["token"] as? String)
            #expect(try await api.get("/v1/runs", token: secret).status == 200)
            let listed = try await api.get("/v1/tokens", token: tokens.admin)
            #expect(!listed.body.contains(secret))
            #expect(listed.body.contains("bot-1"))
            let taken = try await api.post(
                "/v1/tokens", token: tokens.admin, body: #"{"name": "bot-1", "role": "approver"}"#)
            #expect(taken.status == 409, "\(stack.logs)")
            let badName = try await api.post(
                "/v1/tokens", token: tokens.admin, body: #"{"name": "bad name", "role": "approver"}"#)
            #expect(badName.status == 400)
            #expect(badName.pointer == "/name")
            let badRole = try await api.post(
                "/v1/tokens", token: tokens.admin, body: #"{"name": "x", "role": "root"}"#)
            #expect(badRole.status == 400)

            #expect(try await api.send("DELETE", "/v1/tokens/bot-1", token: tokens.admin).status == 204)
            #expect(try await api.get("/v1/runs", token: secret).status == 401)
            #expect(try await api.send("DELETE", "/v1/tokens/bot-1", token: tokens.admin).status == 404)
            // A revoked token keeps its name: decisions made with it still name it.
            let reused = try await api.post(
                "/v1/tokens", token: tokens.admin, body: #"{"name": "bot-1", "role": "approver"}"#)
            #expect(reused.status == 409)
        }
    }

    @Test("Malformed, oversized and unstorable requests get problem JSON naming the field")
    func hostileRequests() async throws {
        try await withAPI { _, api, tokens in
            let cases: [(String, String, String?, Int, String?)] = [
                ("POST", "/v1/runs", "{nope", 400, nil),
                ("POST", "/v1/runs", #"{"flow": "api-quick", "surprise": 1}"#, 400, nil),
                ("POST", "/v1/runs", #"{"input": {}}"#, 400, "/flow"),
                ("POST", "/v1/runs", #"{"flow": 7}"#, 400, "/flow"),
                ("POST", "/v1/runs", #"{"flow": "api-quick", "wait_seconds": 99}"#, 400, "/wait_seconds"),
                ("POST", "/v1/runs", #"{"flow": "api-quick\u0000"}"#, 400, "/flow"),
                ("GET", "/v1/runs?limit=0", nil, 400, "limit"),
                ("GET", "/v1/runs?limit=many", nil, 400, "limit"),
                ("GET", "/v1/runs?status=sleeping", nil, 400, "status"),
                ("GET", "/v1/runs?before=not-a-uuid", nil, 400, "before"),
                ("GET", "/v1/runs?since=yesterday", nil, 400, "since"),
                ("GET", "/v1/runs?until=2026-12-07T09:30:00.25%2B01:00", nil, 200, nil),
                ("GET", "/v1/dead-letters?before=x", nil, 400, "before"),
                ("GET", "/v1/runs/not-a-run", nil, 404, nil),
                ("POST", "/v1/flows/api-quick/rollback", #"{"reason": "x\u0000"}"#, 400, "/reason"),
            ]
            for (method, path, body, status, pointer) in cases {
                let answer = try await api.send(method, path, token: tokens.admin, body: body)
                #expect(answer.status == status, "\(method) \(path) \(body ?? ""): \(answer.body)")
                guard status >= 400 else { continue }
                #expect(answer.headers["content-type"] == "application/problem+json", "\(path)")
                #expect(answer.json?["detail"] is String, "\(path): \(answer.body)")
                if let pointer { #expect(answer.pointer == pointer, "\(path) \(body ?? ""): \(answer.body)") }
            }
            // Over the body limit: refused before it is decoded. Within it but over a trigger's limit once
            // wrapped: refused before it is published, naming the input.
            let huge = String(repeating: "x", count: 1_100_000)
            let oversized = try await api.post(
                "/v1/runs", token: tokens.op, body: #"{"flow": "api-quick", "input": {"blob": "\#(huge)"}}"#)
            #expect(oversized.status == 413, "\(oversized.body)")
            #expect(oversized.problemType == "/problems/body-too-large")
            let big = String(repeating: "x", count: (1 << 20) - 60)
            let wrapped = try await api.post(
                "/v1/runs", token: tokens.op, body: #"{"flow": "api-quick", "input": {"blob": "\#(big)"}}"#)
            #expect(wrapped.status == 413, "\(wrapped.body)")
            #expect(wrapped.pointer == "/input")
        }
    }

    @Test("Only a publisher trusted to act for others may name a trigger's requester")
    func untrustedPublishersCannotNameTheRequester() async throws {
        try await withAPI { stack, _, _ in
            // The stack's own account is the approval-service's here, so trusted; a publisher made with
            // `keel publisher add` is not, and its trigger naming someone else is refused, not run.
            let url = try await stack.publisher(for: "mallory")
            try await stack.trigger(
                "api-quick", key: "forged-requester", headers: ["keel-requester": "ada"],
                as: .account(url: url))
            let rejected = try await stack.rejection(key: "forged-requester")
            #expect(rejected.reason == "invalid_properties")
            #expect(rejected.field == "keel-requester")
            #expect(try await stack.runExists(key: "forged-requester", flow: "api-quick") == false)
        }
    }

    @Test("The route table these tests walk is every operation of the document")
    func routeTableCoversTheDocument() throws {
        let document = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../../Sources/KeelAPI/openapi.yaml"), encoding: .utf8)
        // The document's operations, "METHOD /path/{param}", but for the older approvals routes.
        var operations = Set<String>()
        var path = ""
        var method = ""
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if ["    get:", "    post:", "    delete:", "    put:", "    patch:"].contains(
                String(line))
            {
                method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
            } else if line.hasPrefix("      tags: ["), !line.contains("approvals") {
                operations.insert("\(method) \(path)")
            }
        }
        let run = "00000000-0000-7000-8000-000000000000"
        let tested = Set(
            Self.routes(run: run).map { route in
                let template = route.path.split(separator: "?")[0]
                    .replacingOccurrences(of: run, with: "{runID}")
                    .replacingOccurrences(of: "/flows/api-quick", with: "/flows/{flow}")
                    .replacingOccurrences(of: "/versions/1", with: "/versions/{version}")
                    .replacingOccurrences(of: "/tokens/nobody", with: "/tokens/{name}")
                return "\(route.method) \(template)"
            })
        #expect(operations.count == 17, "\(operations.sorted())")
        #expect(
            tested == operations,
            "untested: \(operations.subtracting(tested)); unknown: \(tested.subtracting(operations))")
    }

    @Test("The API document is served as written")
    func documentIsServed() async throws {
        try await withAPI { _, api, _ in
            let answer = try await api.get("/openapi.yaml", token: nil)
            #expect(answer.status == 200)
            #expect(answer.body.hasPrefix("openapi: 3.1.0"))
            #expect(answer.body.contains("operationId: startRun"))
        }
    }
}
