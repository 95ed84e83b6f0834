import Foundation
import Hummingbird
import HummingbirdTesting
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient
import Testing

@testable import approval_service

/// The web page's routes through Hummingbird's test client, on a real migrated database with a real
/// pending approval: the session cookie's flags, refused sign-ins, CSRF and Origin refusal, escaping of
/// user text, the diff view of a bound resource, and a decision recorded with its note.
@Suite struct WebRoutesTests {
    static let hostile = "<script>alert('x')</script> & <b>bold</b>"

    static let gate = """
        flow: web-gated
        input:
          type: object
          properties:
            change: {type: string}
            title: {type: string}
        steps:
          - id: review
            approval:
              approvers: [alice]
              summary: "Ship ${{ input.title }}"
              bind: ["${{ input.change }}"]
          - id: after
            needs: [review]
            noop: {}
        """

    static let diff = """
        --- a/index.html
        +++ b/index.html
        @@ -1 +1 @@
        -<p>old</p>
        +<p onclick="steal()">new</p>
        """

    struct Fixture {
        let pool: PGPool
        let advancer: RunAdvancer
        let tokens: APITokenStore
        let approvals: ApprovalStore
        let resources: ResourceStore

        func web(https: Bool = false) -> ApprovalWeb {
            ApprovalWeb(
                approvals: approvals, tokens: tokens, resources: resources, runs: RunStore(pool: pool),
                console: ConsoleStores(pool: pool),
                https: https, logger: Logger(label: "test"))
        }

        /// Stores `content` (the test diff by default) and triggers a run bound to it; returns the pending
        /// approval's id.
        func pendingApproval(
            actor: String = "ana", content: [UInt8] = Array(WebRoutesTests.diff.utf8),
            mediaType: String = "text/x-diff"
        ) async throws -> String {
            let stored = try await resources.put(
                bytes: content, description: ResourceDescription(name: "patch.diff", mediaType: mediaType))
            var generator = SystemRandomNumberGenerator()
            let id = RunID.make(
                millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch, using: &generator)
            let run = NewRun(
                id: id, flow: "web-gated", version: 1,
                input: [
                    "change": .string(stored.reference.description), "title": .string(WebRoutesTests.hostile),
                ],
                idempotencyKey: id.description, correlationID: "c-\(id)", actor: actor, requester: actor)
            _ = try await RunStore(pool: pool).create(run, at: .now, advancer: advancer) { _ in [] }
            return "\(id):review:1:approval"
        }
    }

    func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await withMigratedDatabase(poolSize: 6) { pool in
            let flow = try FlowParser.parse(yaml: Self.gate, file: "flow.yaml")
            _ = try await FlowStore(pool: pool).push(
                flow: flow.name, description: "", canonicalJSON: flow.canonicalJSON, sha256: flow.contentHash,
                source: Self.gate, author: "ana")
            let advancer = RunAdvancer(pool: pool)
            try await body(
                Fixture(
                    pool: pool, advancer: advancer, tokens: APITokenStore(pool: pool),
                    approvals: ApprovalStore(pool: pool, advancer: advancer),
                    resources: ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool))))
        }
    }

    /// Runs `body` with a test client on the web routes.
    func withClient(
        _ web: ApprovalWeb, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let router = Router()
        web.addRoutes(to: router)
        try await Application(router: router).test(.router, body)
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
        return ByteBuffer(string: body)
    }

    static func headers(cookie token: String? = nil, origin: String? = nil) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let token { headers[.cookie] = "\(SessionCookie.name)=\(token)" }
        if let origin { headers[.origin] = origin }
        return headers
    }

    @Test(arguments: [false, true])
    func signingInSetsAnHttpOnlySameSiteStrictSessionCookie(https: Bool) async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
                .token
            try await withClient(fixture.web(https: https)) { client in
                try await client.execute(
                    uri: "/sign-in", method: .post, headers: Self.headers(), body: Self.form(["token": alice])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/approvals")
                    let cookie = try #require(response.headers[.setCookie])
                    let attributes = Set(
                        cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(attributes.contains("\(SessionCookie.name)=\(alice)"))
                    #expect(attributes.contains("HttpOnly"))
                    #expect(attributes.contains("SameSite=Strict"))
                    #expect(attributes.contains("Path=/"))
                    #expect(attributes.contains("Secure") == https)
                }
            }
        }
    }

    @Test func aWrongTokenGetsTheFormAgainWith401AndNoCookie() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
                .token
            try await withClient(fixture.web()) { client in
                for wrong in [alice + "x", "", "keel_nothing", "not a token; Path=/"] {
                    try await client.execute(
                        uri: "/sign-in", method: .post, headers: Self.headers(),
                        body: Self.form(["token": wrong])
                    ) { response in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.setCookie] == nil)
                        let page = String(buffer: response.body)
                        #expect(page.contains("That token is not valid"))
                        #expect(page.contains(#"<form method="post" action="/sign-in">"#))
                    }
                }
            }
        }
    }

    @Test func withoutAValidSessionPagesLeadToSignIn() async throws {
        try await withFixture { fixture in
            let issued = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
            _ = try await fixture.tokens.revoke(name: "alice")
            let requests: [(uri: String, token: String?)] = [
                ("/", nil), ("/approvals", nil), ("/approvals", issued.token), ("/approvals/x", "junk"),
            ]
            try await withClient(fixture.web()) { client in
                for request in requests {
                    try await client.execute(
                        uri: request.uri, method: .get, headers: Self.headers(cookie: request.token)
                    ) { response in
                        #expect(response.status == .seeOther, "\(request)")
                        #expect(response.headers[.location] == "/sign-in", "\(request)")
                    }
                }
            }
        }
    }

    @Test func pagesEscapeUserTextAndShowTheBoundDiffAsADiff() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
                .token
            let id = try await fixture.pendingApproval()
            try await withClient(fixture.web()) { client in
                try await client.execute(
                    uri: "/approvals", method: .get, headers: Self.headers(cookie: alice)
                ) {
                    response in
                    #expect(response.status == .ok)
                    let page = String(buffer: response.body)
                    #expect(
                        page.contains(
                            "Ship &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
                        ))
                    #expect(!page.contains("<script>"))
                    #expect(page.contains(ApprovalLinks.page(id)))
                }
                try await client.execute(
                    uri: ApprovalLinks.page(id), method: .get, headers: Self.headers(cookie: alice)
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                    let page = String(buffer: response.body)
                    #expect(!page.contains("<script>"))
                    #expect(!page.contains("<b>bold</b>"))
                    #expect(page.contains(#"<span class="diff-removed">-&lt;p&gt;old&lt;/p&gt;</span>"#))
                    #expect(
                        page.contains(
                            #"<span class="diff-added">+&lt;p onclick=&quot;steal()&quot;&gt;new&lt;/p&gt;</span>"#
                        ))
                    #expect(page.contains(#"id="approve""#))
                    #expect(page.contains(#"id="reject""#))
                    #expect(!page.contains(#"id="request-changes""#), "the gate allows no request_changes")
                    #expect(page.contains(CSRFToken.make(session: alice)))
                    #expect(page.contains("review <small>(approval)</small>"), "the timeline's step rows")
                    #expect(page.contains(#"<svg xmlns="http://www.w3.org/2000/svg" class="run-timeline""#))
                    #expect(page.contains(#"data-step="review""#), "the picture's bar for the approval")
                }
            }
        }
    }

    @Test func aDecisionWithoutTheSessionsCSRFTokenOrFromAnotherOriginIsRefused() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
            let bob = try await fixture.tokens.create(name: "bob", role: .approver, createdBy: "test")
            let id = try await fixture.pendingApproval()
            let refused: [(csrf: String?, origin: String?)] = [
                (nil, nil),
                ("", nil),
                (CSRFToken.make(session: bob.token), nil),
                (String(repeating: "0", count: 64), nil),
                (CSRFToken.make(session: alice.token), "http://evil.example"),
            ]
            try await withClient(fixture.web()) { client in
                for attempt in refused {
                    var fields = ["decision": "approve", "note": "forged"]
                    fields["csrf"] = attempt.csrf
                    try await client.execute(
                        uri: ApprovalLinks.decision(id), method: .post,
                        headers: Self.headers(cookie: alice.token, origin: attempt.origin),
                        body: Self.form(fields)
                    ) { response in
                        #expect(response.status == .forbidden, "\(attempt)")
                        #expect(String(buffer: response.body).contains("was refused"))
                    }
                }
                // Signing out needs the token too.
                try await client.execute(
                    uri: "/sign-out", method: .post, headers: Self.headers(cookie: alice.token),
                    body: Self.form([:])
                ) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.setCookie] == nil)
                }
                try await client.execute(
                    uri: "/sign-out", method: .post, headers: Self.headers(cookie: alice.token),
                    body: Self.form(["csrf": CSRFToken.make(session: alice.token)])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/sign-in")
                    let cookie = try #require(response.headers[.setCookie])
                    #expect(cookie.hasPrefix("\(SessionCookie.name)=;"))
                    #expect(cookie.contains("Max-Age=0"))
                }
            }
            let approval = try #require(try await fixture.approvals.find(id, for: alice.record))
            #expect(approval.status == .pending)
            #expect(approval.decisions.isEmpty)
        }
    }

    @Test func aDecisionFromThePageIsRecordedWithItsNoteAndShown() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
            let id = try await fixture.pendingApproval()
            let digests = try #require(try await fixture.approvals.find(id, for: alice.record)).digests
            try await withClient(fixture.web()) { client in
                let fields = [
                    "decision": "approve", "note": "  Looks <right> to me  ",
                    "csrf": CSRFToken.make(session: alice.token), "digests": digests.joined(separator: ","),
                ]
                let location = try await client.execute(
                    uri: ApprovalLinks.decision(id), method: .post,
                    headers: Self.headers(cookie: alice.token, origin: "http://localhost"),
                    body: Self.form(fields)
                ) { response in
                    #expect(response.status == .seeOther)
                    return try #require(response.headers[.location])
                }
                #expect(location == ApprovalLinks.page(id) + "?recorded=approve")
                try await client.execute(
                    uri: location, method: .get, headers: Self.headers(cookie: alice.token)
                ) {
                    response in
                    let page = String(buffer: response.body)
                    #expect(page.contains("Your decision (approve) was recorded."))
                    #expect(page.contains("Looks &lt;right&gt; to me"))
                    #expect(page.contains(#"<dd id="status">approved</dd>"#))
                    #expect(!page.contains(#"id="approve""#), "no form once the approval is closed")
                }
                // Deciding again is refused, on the approval's page, with the reason.
                try await client.execute(
                    uri: ApprovalLinks.decision(id), method: .post,
                    headers: Self.headers(cookie: alice.token),
                    body: Self.form(fields)
                ) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("already closed (approved)"))
                }
            }
            let approval = try #require(try await fixture.approvals.find(id, for: alice.record))
            #expect(approval.status == .approved)
            #expect(approval.decisions.map(\.approver) == ["alice"])
            #expect(approval.decisions.first?.note == "Looks <right> to me")
            #expect(approval.decisions.first?.digests == digests)
        }
    }

    @Test func ownRunsStaleDigestsAndDisallowedRequestChangesAreRefusedWithTheReason() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
            let own = try await fixture.pendingApproval(actor: "alice")
            let other = try await fixture.pendingApproval()
            try await withClient(fixture.web()) { client in
                let csrf = CSRFToken.make(session: alice.token)
                try await client.execute(
                    uri: ApprovalLinks.decision(own), method: .post,
                    headers: Self.headers(cookie: alice.token),
                    body: Self.form(["decision": "approve", "csrf": csrf])
                ) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("You started this run"))
                }
                try await client.execute(
                    uri: ApprovalLinks.decision(other), method: .post,
                    headers: Self.headers(cookie: alice.token),
                    body: Self.form([
                        "decision": "approve", "csrf": csrf, "digests": String(repeating: "a", count: 64),
                    ])
                ) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("bound artifacts changed"))
                }
                try await client.execute(
                    uri: ApprovalLinks.decision(other), method: .post,
                    headers: Self.headers(cookie: alice.token),
                    body: Self.form(["decision": "request_changes", "csrf": csrf])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                }
                // A note PostgreSQL cannot store (U+0000) is refused with the reason, and records nothing.
                try await client.execute(
                    uri: ApprovalLinks.decision(other), method: .post,
                    headers: Self.headers(cookie: alice.token),
                    body: Self.form(["decision": "reject", "csrf": csrf, "note": "no\u{0}pe"])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("NUL character"))
                }
            }
        }
    }

    @Test func bigArtifactsAreCutAt256KiBAndBinaryOnesDescribed() async throws {
        try await withFixture { fixture in
            let alice = try await fixture.tokens.create(name: "alice", role: .approver, createdBy: "test")
                .token
            // 300 KiB of text whose last line would show if it were not cut; a 4-byte character straddles the cut.
            let big =
                String(repeating: "a", count: BoundArtifact.displayLimit - 2) + "😀"
                + String(repeating: "b\n", count: 20_000) + "THE-END"
            let text = try await fixture.pendingApproval(content: Array(big.utf8), mediaType: "text/plain")
            let binary = try await fixture.pendingApproval(
                content: [0x89, 0x50, 0x4e, 0x47, 0, 1, 2], mediaType: "image/png")
            try await withClient(fixture.web()) { client in
                try await client.execute(
                    uri: ApprovalLinks.page(text), method: .get, headers: Self.headers(cookie: alice)
                ) {
                    response in
                    let page = String(buffer: response.body)
                    #expect(page.contains("Showing the first 256 KiB of \(big.utf8.count) bytes."))
                    #expect(page.contains(String(repeating: "a", count: 1000)))
                    #expect(!page.contains("THE-END"))
                    #expect(!page.contains("😀"), "a character cut in half is dropped, not mangled")
                    #expect(!page.contains("\u{FFFD}"))
                }
                try await client.execute(
                    uri: ApprovalLinks.page(binary), method: .get, headers: Self.headers(cookie: alice)
                ) {
                    response in
                    let page = String(buffer: response.body)
                    #expect(page.contains("image/png, 7 bytes of binary content."))
                }
            }
        }
    }
}
