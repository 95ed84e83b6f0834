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

/// The console's routes through Hummingbird's test client on a real migrated database (the fixture of
/// ``WebRoutesTests``: the `web-gated` flow and runs waiting at its approval): every page needs a
/// session, hostile text stays text, filters are read and wrong ones answered with 400, unknown runs,
/// flows and versions with 404.
@Suite struct ConsoleRoutesTests {
    static let script = "<script>alert(1)</script>"
    static let quoted = #"fl"ow' "><script>alert(1)</script>"#

    let web = WebRoutesTests()

    /// GETs `uri` with `token`'s session cookie; returns the status and the page.
    static func get(_ client: any TestClientProtocol, _ uri: String, token: String?) async throws
        -> (HTTPResponse.Status, String, HTTPFields)
    {
        try await client.execute(uri: uri, method: .get, headers: WebRoutesTests.headers(cookie: token)) {
            ($0.status, String(buffer: $0.body), $0.headers)
        }
    }

    @Test("without a valid session every console page leads to sign-in")
    func consoleNeedsASession() async throws {
        try await web.withFixture { fixture in
            try await web.withClient(fixture.web()) { client in
                for uri in [
                    "/console/runs", "/console/runs/x", "/console/flows", "/console/flows/web-gated",
                    "/console/flows/web-gated/diff?from=1&to=2", "/console/dead-letters",
                    "/console/webhooks", "/console/actions",
                ] {
                    let (status, _, headers) = try await Self.get(client, uri, token: "junk")
                    #expect(status == .seeOther, "\(uri)")
                    #expect(headers[.location] == "/sign-in", "\(uri)")
                }
                let (status, _, headers) = try await Self.get(client, "/console", token: nil)
                #expect(status == .seeOther)
                #expect(headers[.location] == "/console/runs")
            }
        }
    }

    @Test("the runs page lists runs newest first, refreshes while one is unfinished, and filters")
    func runsPage() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let first = try await fixture.pendingApproval(actor: "ana")
            let second = try await fixture.pendingApproval(actor: "bo")
            let firstRun = try #require(RunID(String(first.prefix(36))))
            let secondRun = try #require(RunID(String(second.prefix(36))))
            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(client, "/console/runs", token: viewer)
                #expect(status == .ok)
                let newer = try #require(page.range(of: ConsoleLinks.run(secondRun)))
                let older = try #require(page.range(of: ConsoleLinks.run(firstRun)))
                #expect(newer.lowerBound < older.lowerBound, "newest first")
                #expect(page.contains(#"<meta http-equiv="refresh" content="10">"#))
                #expect(page.contains(#"<span class="status status-waiting">waiting</span>"#))
                #expect(page.contains(#"<a href="/console/runs" aria-current="page">Runs</a>"#))

                (status, page, _) = try await Self.get(client, "/console/runs?requester=bo", token: viewer)
                #expect(status == .ok)
                #expect(page.contains(ConsoleLinks.run(secondRun)))
                #expect(!page.contains(ConsoleLinks.run(firstRun)))
                #expect(page.contains(#"name="requester" value="bo""#), "the form keeps the filter")

                (status, page, _) = try await Self.get(
                    client, "/console/runs?status=succeeded", token: viewer)
                #expect(status == .ok)
                #expect(page.contains("No runs match."))
                #expect(!page.contains("http-equiv=\"refresh\""), "nothing unfinished listed")
                #expect(page.contains(#"<option value="succeeded" selected>"#))

                // Text in the input, a day range that holds today, and a space sent as `+`.
                let today = ConsoleFormat.time(Date()).prefix(10)
                (status, page, _) = try await Self.get(
                    client, "/console/runs?text=%3Cb%3Ebold&since=\(today)&until=\(today)&flow=web-gated",
                    token: viewer)
                #expect(status == .ok)
                #expect(
                    page.contains(ConsoleLinks.run(secondRun)) && page.contains(ConsoleLinks.run(firstRun)))
                (status, page, _) = try await Self.get(
                    client, "/console/runs?text=no+such+text", token: viewer)
                #expect(page.contains("No runs match."))
                #expect(page.contains(#"value="no such text""#))

                // Paging: the runs older than the newer one.
                (status, page, _) = try await Self.get(
                    client, "/console/runs?before=\(secondRun)", token: viewer)
                #expect(page.contains(ConsoleLinks.run(firstRun)))
                #expect(!page.contains(ConsoleLinks.run(secondRun)))

                // A hostile filter value is echoed as text, inside its attribute.
                let hostile = ConsoleLinks.encodedQueryValue(Self.quoted)
                (status, page, _) = try await Self.get(client, "/console/runs?flow=\(hostile)", token: viewer)
                #expect(status == .ok)
                #expect(!page.contains("<script>"))
                #expect(
                    page.contains(#"value="fl&quot;ow&#39; &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#)
                )
            }
        }
    }

    @Test("a full page of runs links the older ones, keeping the filters")
    func runsPaging() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            var created: [RunID] = []
            for _ in 0...RunsQuery.pageSize {
                created.append(
                    try #require(RunID(String(try await fixture.pendingApproval(actor: "ana").prefix(36)))))
            }
            let runs = created
            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(
                    client, "/console/runs?flow=web-gated&status=waiting", token: viewer)
                #expect(status == .ok)
                #expect(!page.contains(ConsoleLinks.run(runs[0])), "the oldest is on the next page")
                #expect(page.contains(ConsoleLinks.run(runs[1])))
                let older = "/console/runs?flow=web-gated&amp;status=waiting&amp;before=\(runs[1])"
                #expect(page.contains(#"<a id="older" href="\#(older)">Older runs</a>"#))
                (status, page, _) = try await Self.get(
                    client, older.replacingOccurrences(of: "&amp;", with: "&"), token: viewer)
                #expect(status == .ok)
                #expect(page.contains(ConsoleLinks.run(runs[0])))
                #expect(!page.contains(ConsoleLinks.run(runs[1])))
                #expect(!page.contains(#"id="older""#))
            }
        }
    }

    @Test(
        "wrong filter values get a clear message and 400",
        arguments: [
            ("status=bogus", "is not a run status"),
            ("since=2026-13-45", "is not a date"),
            ("until=yesterday", "is not a date"),
            ("before=not-a-run", "is not a run id"),
            ("text=a%00b", "NUL character"),
        ])
    func invalidFilters(query: String, message: String) async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            try await web.withClient(fixture.web()) { client in
                let (status, page, _) = try await Self.get(client, "/console/runs?" + query, token: viewer)
                #expect(status == .badRequest)
                #expect(page.contains(message), "\(page)")
                #expect(page.contains(#"class="message error""#))
            }
        }
    }

    @Test("filters parse dates as UTC days (until includes its day) and ISO 8601 times")
    func filterParsing() throws {
        let query = RunsQuery([
            "since": "2026-12-01", "until": "2026-12-07", "status": "failed", "flow": " a ",
        ])
        #expect(query.problems.isEmpty)
        #expect(query.filter.since == Date(timeIntervalSince1970: 1_796_083_200))
        #expect(query.filter.until == Date(timeIntervalSince1970: 1_796_083_200 + 7 * 86_400))
        #expect(query.filter.status == "failed")
        #expect(query.filter.flow == "a")
        #expect(query.filter.limit == RunsQuery.pageSize)
        let time = RunsQuery(["since": "2026-12-01T10:00:00Z"])
        #expect(time.filter.since == Date(timeIntervalSince1970: 1_796_083_200 + 36_000))
        #expect(RunsQuery(["since": "2026-02-30"]).problems.count == 1)
        #expect(RunsQuery([:]).filter == RunFilter(limit: RunsQuery.pageSize))
        #expect(
            ApprovalWeb.queryParameters("flow=a+b&text=%3Cx%3E&flow=second&empty=")
                == ["flow": "a b", "text": "<x>", "empty": ""])
    }

    @Test("a run's page shows its summary, steps, approval, history, and its hostile input as text")
    func runPage() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let approval = try await fixture.pendingApproval(actor: "ana")
            let run = try #require(RunID(String(approval.prefix(36))))
            try await web.withClient(fixture.web()) { client in
                let (status, page, _) = try await Self.get(client, ConsoleLinks.run(run), token: viewer)
                #expect(status == .ok)
                #expect(!page.contains("<script>"))
                #expect(!page.contains("<b>bold</b>"))
                #expect(
                    page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "the input, escaped")
                #expect(page.contains(#"<a href="/console/flows/web-gated">web-gated</a> v1"#))
                #expect(page.contains(#"<span class="status status-waiting">waiting</span>"#))
                #expect(page.contains(#"<section class="step" id="step-review">"#))
                #expect(page.contains(ApprovalLinks.page(approval)), "the approval, linked")
                #expect(page.contains("run.triggered"), "the history")
                #expect(page.contains(#"<svg xmlns="http://www.w3.org/2000/svg" class="run-timeline""#))
                #expect(page.contains(#"<meta http-equiv="refresh" content="10">"#), "unfinished")
            }
        }
    }

    @Test(
        "an unknown or malformed run id is a 404 page",
        arguments: [
            "0190a000-0000-7000-8000-000000000000", "not-a-run", "%3Cscript%3E",
        ])
    func unknownRun(id: String) async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            try await web.withClient(fixture.web()) { client in
                let (status, page, _) = try await Self.get(client, "/console/runs/" + id, token: viewer)
                #expect(status == .notFound)
                #expect(page.contains("There is no run"))
                #expect(!page.contains("<script>"))
            }
        }
    }

    @Test("flows, a flow's versions and releases, and the diff of two versions")
    func flowPages() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let flows = FlowStore(pool: fixture.pool)
            _ = try await flows.release(
                flow: "web-gated", version: 1, actor: "ana", reason: "first <release>")
            let changed =
                WebRoutesTests.gate.replacingOccurrences(of: "noop: {}", with: "noop: {} # <done>")
                + "\n  - id: last\n    needs: [after]\n    noop: {}\n"
            let parsed = try FlowParser.parse(yaml: changed, file: "flow.yaml")
            _ = try await flows.push(
                flow: parsed.name, description: "", canonicalJSON: parsed.canonicalJSON,
                sha256: parsed.contentHash, source: changed, author: "bo")
            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(client, "/console/flows", token: viewer)
                #expect(status == .ok)
                #expect(page.contains(#"<a href="/console/flows/web-gated">web-gated</a>"#))
                #expect(page.contains("<td>v1</td><td>v2 <small>(not released)</small></td>"))

                (status, page, _) = try await Self.get(client, "/console/flows/web-gated", token: viewer)
                #expect(status == .ok)
                #expect(page.contains("v1 <strong>live</strong>"))
                #expect(page.contains("first &lt;release&gt;"))
                #expect(page.contains(#"<option value="1" selected>v1</option>"#))
                #expect(page.contains(#"<option value="2" selected>v2</option>"#))
                #expect(
                    page.contains("/console/flows/web-gated/diff?from=1&amp;to=2"),
                    "the previous version's diff")

                (status, page, _) = try await Self.get(
                    client, "/console/flows/web-gated/diff?from=1&to=2", token: viewer)
                #expect(status == .ok)
                #expect(page.contains(#"<span class="diff-file">--- web-gated v1</span>"#))
                #expect(page.contains(#"<span class="diff-added">+    noop: {} # &lt;done&gt;</span>"#))
                #expect(page.contains(#"<span class="diff-added">+  - id: last</span>"#))

                (status, page, _) = try await Self.get(
                    client, "/console/flows/web-gated/diff?from=2&to=2", token: viewer)
                #expect(page.contains("v2 and v2 have the same source."))
                (status, _, _) = try await Self.get(
                    client, "/console/flows/web-gated/diff?from=x&to=2", token: viewer)
                #expect(status == .badRequest)
                (status, page, _) = try await Self.get(
                    client, "/console/flows/web-gated/diff?from=1&to=9", token: viewer)
                #expect(status == .notFound)
                #expect(page.contains("has no version 9"))
                let hostile = ApprovalLinks.encoded(Self.quoted)
                for uri in ["/console/flows/\(hostile)", "/console/flows/\(hostile)/diff?from=1&to=2"] {
                    (status, page, _) = try await Self.get(client, uri, token: viewer)
                    #expect(status == .notFound, "\(uri)")
                    #expect(!page.contains("<script>"))
                    #expect(page.contains("There is no flow fl&quot;ow&#39; &quot;&gt;&lt;script&gt;"))
                }
            }
        }
    }

    @Test("dead letters show refused triggers newest first, as text, a page at a time")
    func deadLetters() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let store = TriggerRejectionStore(pool: fixture.pool)
            for index in 1...(DeadLettersPage.pageSize + 2) {
                _ = try await store.record(
                    TriggerRejection(
                        reason: .unknownFlow, field: "flow", message: "no flow \(Self.script) #\(index)"),
                    flow: Self.quoted,
                    origin: .init(
                        messageID: "m-\(index)", routingKey: Self.quoted, correlationID: "c-\(index)",
                        replyTo: nil,
                        bodyBytes: 10 * index),
                    messages: [])
            }
            let newest = try await store.recent(limit: 2)
            #expect(newest.map(\.correlationID) == ["c-52", "c-51"])
            #expect(newest.first?.flow == Self.quoted)
            #expect(try await store.recent(limit: 1, before: newest[1].id).first?.correlationID == "c-50")

            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(client, "/console/dead-letters", token: viewer)
                #expect(status == .ok)
                #expect(!page.contains("<script>"))
                #expect(page.contains("no flow &lt;script&gt;alert(1)&lt;/script&gt; #52"))
                #expect(page.contains("fl&quot;ow&#39; &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(page.contains("keel.dead.keel.triggers"))
                #expect(!page.contains("#2<"), "only a page of them")
                let link = try #require(
                    page.range(of: #"/console/dead-letters\?before=\d+"#, options: .regularExpression))
                (status, page, _) = try await Self.get(client, String(page[link]), token: viewer)
                #expect(status == .ok)
                #expect(page.contains("no flow &lt;script&gt;alert(1)&lt;/script&gt; #2<"))
                #expect(!page.contains("#52<"))
                (status, _, _) = try await Self.get(client, "/console/dead-letters?before=x", token: viewer)
                #expect(status == .badRequest)
            }
        }
    }
}
