import Foundation
import Hummingbird
import HummingbirdTesting
import KeelCore
import KeelStore
import Testing

@testable import approval_service

/// The console's webhook deliveries and API actions pages: deliveries newest first with every attempt,
/// hostile URLs, answers and errors as text, URLs whole for admins only; the actions page for admins only.
extension ConsoleRoutesTests {
    /// A target whose path, query and user hold markup and a secret.
    static let hostileURL =
        #"https://ops:pw@hooks.example:8443/services/T0/"><script>alert(1)</script>?token=s3cret"#

    @Test("webhook deliveries are listed newest first with their attempts, hostile text escaped")
    func webhookDeliveries() async throws {
        try await web.withFixture { fixture in
            let approver = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let admin = try await fixture.tokens.create(name: "ada", role: .admin, createdBy: "test").token
            let run = RunID(UUID())
            let store = WebhookDeliveryStore(pool: fixture.pool)
            // The older delivery: a 500, then delivered at the second attempt.
            let retried = NewWebhookDelivery(
                target: WebhookTarget(url: "https://hooks.example/ok"), body: ["type": "approval.requested"])
            try await store.enqueue(
                WebhookEvent(messageID: "m-1", type: .approvalRequested, runID: run, flow: "web-gated"),
                deliveries: [retried])
            let first = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 8).first)
            try await store.record(
                first,
                result: WebhookAttemptResult(
                    statusCode: 500, errorClass: nil, responseExcerpt: "busy \(Self.script)",
                    durationMilliseconds: 1234),
                next: .retry(after: .zero))
            let second = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 8).first)
            try await store.record(
                second,
                result: WebhookAttemptResult(
                    statusCode: 200, errorClass: nil, responseExcerpt: nil, durationMilliseconds: 8),
                next: .delivered)
            // The newer: to a hostile URL, failed with a hostile error class.
            try await Task.sleep(for: .milliseconds(20))
            let hostile = NewWebhookDelivery(
                target: WebhookTarget(url: Self.hostileURL, format: .slack), body: ["text": "x"])
            try await store.enqueue(
                WebhookEvent(messageID: "m-2", type: .runFailed, runID: run, flow: Self.quoted),
                deliveries: [hostile])
            let claimed = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 8).first)
            try await store.record(
                claimed,
                result: WebhookAttemptResult(
                    statusCode: nil, errorClass: Self.script, responseExcerpt: nil,
                    durationMilliseconds: 10_000),
                next: .failed)

            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(client, "/console/webhooks", token: admin)
                #expect(status == .ok)
                #expect(!page.contains("<script>"))
                #expect(
                    page.contains(#"<a href="/console/webhooks" aria-current="page">Webhook deliveries</a>"#))
                let newer = try #require(page.range(of: "delivery-\(hostile.id)"))
                let older = try #require(page.range(of: "delivery-\(retried.id)"))
                #expect(newer.lowerBound < older.lowerBound, "newest first")
                #expect(
                    page.contains(
                        "https://ops:pw@hooks.example:8443/services/T0/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;?token=s3cret"
                    ), "the whole URL, escaped, for an admin")
                #expect(page.contains(#"<td class="last-error">&lt;script&gt;alert(1)&lt;/script&gt;</td>"#))
                #expect(page.contains("#1 <code>&lt;script&gt;alert(1)&lt;/script&gt;</code> · 10.000s"))
                #expect(page.contains("fl&quot;ow&#39; &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(page.contains(#"<span class="status status-failed">failed</span>"#))
                #expect(page.contains(#"<span class="status status-delivered">delivered</span>"#))
                #expect(page.contains("#1 HTTP 500 · 1.234s"))
                #expect(page.contains("busy &lt;script&gt;alert(1)&lt;/script&gt;"), "the answer's excerpt")
                #expect(page.contains("#2 HTTP 200 · 0.008s"))
                #expect(page.contains(ConsoleLinks.run(run)))
                #expect(
                    page.contains("<code>approval.requested</code>")
                        && page.contains(#"<small class="format">slack</small>"#))
                #expect(!page.contains("http-equiv=\"refresh\""), "nothing pending")
                #expect(page.contains(#"<a href="/console/actions">Actions</a>"#), "an admin's navigation")

                (status, page, _) = try await Self.get(client, "/console/webhooks", token: approver)
                #expect(status == .ok)
                #expect(page.contains("<code>https://hooks.example:8443/…</code>"), "the host only")
                #expect(!page.contains("s3cret") && !page.contains("ops:pw") && !page.contains("services/T0"))
                #expect(page.contains("<code>https://hooks.example/…</code>"))
                #expect(!page.contains("/console/actions"), "no Actions link for an approver")
            }
        }
    }

    @Test("a pending delivery keeps the page reloading; none at all says so")
    func pendingAndEmptyWebhooks() async throws {
        try await web.withFixture { fixture in
            let viewer = try await fixture.tokens.create(name: "otto", role: .operator, createdBy: "test")
                .token
            try await web.withClient(fixture.web()) { client in
                var (status, page, _) = try await Self.get(client, "/console/webhooks", token: viewer)
                #expect(status == .ok)
                #expect(page.contains("No webhook has been sent."))
                try await WebhookDeliveryStore(pool: fixture.pool).enqueue(
                    WebhookEvent(
                        messageID: "m-1", type: .approvalDecided, runID: RunID(UUID()), flow: "web-gated"),
                    deliveries: [
                        NewWebhookDelivery(target: WebhookTarget(url: "http://10.0.0.1"), body: ["a": 1])
                    ])
                (status, page, _) = try await Self.get(client, "/console/webhooks", token: viewer)
                #expect(page.contains(#"<span class="status status-pending">pending</span>"#))
                #expect(page.contains(#"<meta http-equiv="refresh" content="10">"#))
                #expect(page.contains("<code>http://10.0.0.1</code>"), "no path: nothing hidden")
            }
        }
        #expect(WebhooksPage.shownURL("not a url") == "(hidden)")
        #expect(WebhooksPage.shownURL("https://u:p@h.example/") == "https://h.example")
        #expect(WebhooksPage.shownURL("http://h.example?q=1") == "http://h.example/…")
        #expect(
            WebhooksPage.shownURL("https://hooks.slack.com/services/T/B/secret")
                == "https://hooks.slack.com/…")
    }

    @Test("the record of API actions is for admins only, its text escaped")
    func actionsPage() async throws {
        try await web.withFixture { fixture in
            let approver = try await fixture.tokens.create(name: "vera", role: .approver, createdBy: "test")
                .token
            let op = try await fixture.tokens.create(name: "otto", role: .operator, createdBy: "test").token
            let admin = try await fixture.tokens.create(name: "ada", role: .admin, createdBy: "test").token
            let id = RunID(UUID())
            let run = id.description
            let actions = APIActionStore(pool: fixture.pool)
            try await actions.record(
                APIAction(
                    principal: "otto", tokenID: "0123456789abcdef", role: "operator", action: "run.cancel",
                    target: run, outcome: .done, detail: "wrong ticket \(Self.script)"))
            try await actions.record(
                APIAction(
                    principal: Self.quoted, tokenID: "0123456789abcdef", role: "approver",
                    action: "flow.release", target: "web-gated", outcome: .forbidden))

            try await web.withClient(fixture.web()) { client in
                for token in [approver, op] {
                    let (status, page, _) = try await Self.get(client, "/console/actions", token: token)
                    #expect(status == .forbidden)
                    #expect(page.contains("Only admin tokens may see the record of API actions."))
                    #expect(!page.contains("wrong ticket"))
                    #expect(!page.contains(#"href="/console/actions""#), "no Actions link")
                }
                let (status, page, _) = try await Self.get(client, "/console/actions", token: admin)
                #expect(status == .ok)
                #expect(!page.contains("<script>"))
                #expect(page.contains(#"<a href="/console/actions" aria-current="page">Actions</a>"#))
                let newer = try #require(page.range(of: "flow.release"))
                let older = try #require(page.range(of: "run.cancel"))
                #expect(newer.lowerBound < older.lowerBound, "newest first")
                #expect(page.contains("wrong ticket &lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(
                    page.contains("<td>fl&quot;ow&#39; &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>"))
                #expect(page.contains(#"<a href="\#(ConsoleLinks.run(id))">"#), "the run, linked")
                #expect(
                    page.contains(#"<a href="/console/flows/web-gated">web-gated</a>"#), "the flow, linked")
                #expect(page.contains(#"<span class="status status-done">done</span>"#))
                #expect(page.contains(#"<span class="status status-forbidden">forbidden</span>"#))
            }
        }
    }
}
