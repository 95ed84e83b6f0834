import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// The console's webhook deliveries and API actions pages in a real browser on the real services: a flow
/// notifies a receiver in this process that answers 500 to a webhook's first attempt and 200 to the next
/// (``WebhookNotificationTests/Receiver``), so the delivery shows two attempts, and a configured URL that
/// answers 410, so its delivery fails at once; an operator cancels the
/// waiting run through the API (done, then refused) and an approver tries to (forbidden). An admin reads
/// both pages; an approver gets no Actions link and a 403 page.
extension ConsoleBrowserTests {
    @Test("a retried webhook delivery and the API actions show in the console, actions to admins only")
    func webhooksAndActionsInABrowser() async throws {
        let receiver = WebhookNotificationTests.Receiver()
        let router = Router()
        for path in ["hook", "gone"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
                let status = receiver.answer(
                    path: "/" + path, id: request.headers[HTTPField.Name("webhook-id")!] ?? "",
                    timestamp: "", signature: "", body: body)
                return Response(
                    status: status,
                    body: .init(
                        byteBuffer: .init(string: status == .gone ? "no such hook" : "busy, try again")))
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let stack = try await EngineStack(
                flows: [WebhookNotificationTests.approvalFlow(port: port)],
                environment: [
                    "KEEL_WEBHOOK_SECRET": WebhookNotificationTests.secret,
                    "KEEL_WEBHOOK_RETRY_BASE": "200ms", "KEEL_WEBHOOK_URLS": "http://127.0.0.1:\(port)/gone",
                ])
            do {
                try await webhooksAndActions(stack, receiver: receiver, port: port)
            } catch {
                Issue.record("\(error)\n\(stack.logs)")
            }
            try await stack.stop()
        }
    }

    func webhooksAndActions(_ stack: EngineStack, receiver: WebhookNotificationTests.Receiver, port: Int)
        async throws
    {
        let base = try await stack.startApprovalService()
        let admin = try await stack.token("ada", role: .admin)
        let approver = try await stack.token("ava", groups: ["reviewers"])
        let op = try await stack.token("otto", role: .operator)

        // approval.requested: refused once with a 500, delivered at the second attempt.
        try await stack.trigger("notified", key: "console-webhook")
        let run = try await stack.runID(key: "console-webhook", flow: "notified")
        let posted = try await receiver.waitFor("/hook") { $0.count >= 2 }
        try #require(posted.count >= 2, "the receiver got \(posted.count) requests")
        let delivery = try #require(
            try await Self.finished(stack, id: posted[0].id, "delivered"), "the delivery was not delivered")
        #expect(delivery.attemptsMade.map(\.statusCode) == [500, 200])
        // The configured URL answers 410: failed at once.
        let goneID = try #require(
            try await receiver.waitFor("/gone") { !$0.isEmpty }.first?.id, "the configured URL got nothing")
        let gone = try #require(
            try await Self.finished(stack, id: goneID, "failed"), "the configured URL's delivery did not fail"
        )

        // Actions through the operators' API: done, refused (already cancelled) and forbidden (a role).
        let api = OperatorAPIClient(url: base)
        let cancel = "/v1/runs/\(run)/cancel"
        #expect(try await api.post(cancel, token: op, body: #"{"reason": "wrong ticket"}"#).status == 200)
        #expect(try await api.post(cancel, token: op, body: #"{"reason": "twice"}"#).status == 409)
        #expect(try await api.post(cancel, token: approver, body: #"{"reason": "mine"}"#).status == 403)

        let browser = try await HeadlessChromium.launch()
        do {
            try await browser.setViewport(width: 1100, height: 800)
            try await browser.open(base + "/sign-in")
            try await browser.fill("#token", admin)
            try await browser.click("#sign-in")
            try await browser.click("nav.sections a[href='/console/webhooks']")
            #expect(try await browser.url() == base + "/console/webhooks")
            #expect(try await Self.scripts(browser) == 0)
            let row = "#delivery-\(delivery.id)"
            let shown = try await browser.evaluate("document.querySelector('\(row)').textContent")
            let text = try #require(shown.stringValue, "the delivery is not listed")
            #expect(text.contains("approval.requested") && text.contains("notified"))
            #expect(text.contains("http://127.0.0.1:\(port)/hook"), "an admin sees the whole URL")
            #expect(text.contains("delivered") && text.contains("standard"))
            #expect(text.contains("#1 HTTP 500") && text.contains("#2 HTTP 200"))
            #expect(text.contains("busy, try again"), "the receiver's answer")
            #expect(
                try await browser.evaluate("document.querySelectorAll('\(row) li.attempt').length") == 2)
            #expect(
                try await browser.evaluate(
                    "document.querySelector('\(row) .status').textContent") == "delivered")
            let failed = try await browser.evaluate(
                "document.querySelector('#delivery-\(gone.id)').textContent")
            #expect(failed.stringValue?.contains("HTTP 410") == true, "\(failed)")
            #expect(failed.stringValue?.contains("no such hook") == true, "\(failed)")
            #expect(
                try await browser.evaluate(
                    "document.querySelector('#delivery-\(gone.id) .status').textContent")
                    == "failed")
            try await Self.shoot(browser, "console-webhooks")
            try await browser.click("\(row) a[href='/console/runs/\(run)']")
            #expect(try await browser.url() == base + "/console/runs/" + run)

            try await browser.click("nav.sections a[href='/console/actions']")
            #expect(try await browser.url() == base + "/console/actions")
            #expect(try await Self.scripts(browser) == 0)
            let actions = try await browser.text()
            for expected in ["otto", "ava", "run.cancel", "done", "refused", "forbidden", "wrong ticket"] {
                #expect(actions.contains(expected), "\(expected) on the actions page")
            }
            try await Self.shoot(browser, "console-actions")

            // An approver: the host of the URL only, no Actions link, and a 403 page there.
            try await browser.click("form.sign-out button")
            try await browser.open(base + "/sign-in")
            try await browser.fill("#token", approver)
            try await browser.click("#sign-in")
            try await browser.open(base + "/console/webhooks")
            let hidden = try await browser.evaluate(
                "document.querySelector('#delivery-\(delivery.id)').textContent")
            #expect(hidden.stringValue?.contains("http://127.0.0.1:\(port)") == true)
            #expect(hidden.stringValue?.contains("/hook") == false, "the path is an admin's to see")
            #expect(
                try await browser.evaluate("document.querySelector(\"nav a[href='/console/actions']\")")
                    == .null)
            try await browser.open(base + "/console/actions")
            #expect(try await browser.text().contains("Only admin tokens may see the record of API actions."))
        } catch {
            Issue.record("\(error)\nbrowser log:\n\(browser.log)\n\(stack.logs)")
        }
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)

        let (status, _) = try await Self.served(base + "/console/actions", token: approver)
        #expect(status == 403)
        let (adminStatus, html) = try await Self.served(base + "/console/actions", token: admin)
        #expect(adminStatus == 200)
        #expect(html.contains("wrong ticket"))
    }

    /// The delivery once the sender has recorded it `status`.
    static func finished(_ stack: EngineStack, id: String, _ status: String) async throws
        -> WebhookDeliveryRecord?
    {
        let store = WebhookDeliveryStore(pool: stack.pool)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let delivery = try await store.recentDeliveries(limit: 50).first(where: { $0.id == id }),
                delivery.status == status
            {
                return delivery
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
