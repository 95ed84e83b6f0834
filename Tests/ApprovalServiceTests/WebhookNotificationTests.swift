import Foundation
import KeelCore
import KeelStore
import Testing

@testable import approval_service

/// Webhook signing, bodies, settings and the retry policy, without a network (the end-to-end test,
/// WebhookNotificationTests in EndToEndTests, posts to a real receiver).
@Suite("Webhook notifications")
struct WebhookNotificationUnitTests {
    static let referenceSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("the signature matches the Standard Webhooks reference vector")
    func referenceVector() throws {
        let secret = try WebhookSecret(parsing: Self.referenceSecret)
        let signature = WebhookSignature.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
            body: Array(#"{"test": 2432232314}"#.utf8), secret: secret)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let headers = WebhookSignature.headers(
            id: "msg_1", timestamp: 5, body: Array("{}".utf8), secret: secret)
        #expect(headers.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[1].1 == "5")
    }

    @Test("a secret never shows in its textual forms, and a bad one's error does not repeat it")
    func secretIsRedacted() throws {
        let secret = try WebhookSecret(parsing: Self.referenceSecret)
        for text in [
            "\(secret)", String(reflecting: secret), "\(Mirror(reflecting: secret).children.map(\.value))",
        ] {
            #expect(!text.contains("MfKQ9r8G"), "\(text)")
        }
        #expect(throws: WebhookSecret.Problem.self) {
            try WebhookSecret(parsing: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        }
        #expect(throws: WebhookSecret.Problem.self) { try WebhookSecret(parsing: "whsec_c2hvcnQ=") }
        #expect(throws: WebhookSecret.Problem.self) { try WebhookSecret(parsing: "whsec_not base64!") }
        do {
            _ = try WebhookSettings(value: { key, _ in key == "webhook.secret" ? "whsec_c2hvcnQ=" : nil })
            Issue.record("a short secret was accepted")
        } catch {
            #expect(!"\(error)".contains("c2hvcnQ"), "\(error)")
            #expect("\(error)".contains("webhook.secret"))
        }
    }

    static func settings(_ values: [String: String]) throws -> WebhookSettings {
        try WebhookSettings(value: { key, _ in values[key] })
    }

    @Test("URLs without a secret are refused at start; no settings at all is off")
    func settingsRefusals() throws {
        #expect(try Self.settings([:]).enabled == false)
        #expect(throws: WebhookSettingsError.self) {
            try Self.settings(["webhook.urls": "https://hooks.example/a"])
        }
        #expect(throws: WebhookSettingsError.self) {
            try Self.settings([
                "webhook.urls": "ftp://hooks.example/a", "webhook.secret": Self.referenceSecret,
            ])
        }
        #expect(throws: WebhookSettingsError.self) {
            try Self.settings(["webhook.format": "teams", "webhook.secret": Self.referenceSecret])
        }
        #expect(throws: WebhookSettingsError.self) {
            try Self.settings(["webhook.retry.base": "0ms", "webhook.secret": Self.referenceSecret])
        }
        let settings = try Self.settings([
            "webhook.urls": " https://a.example/x, http://b.example:8080/y ,https://a.example/x",
            "webhook.secret": Self.referenceSecret, "webhook.format": "slack", "webhook.retry.base": "200ms",
        ])
        #expect(settings.enabled)
        #expect(settings.configuredTargets.map(\.url) == ["https://a.example/x", "http://b.example:8080/y"])
        #expect(settings.configuredTargets.allSatisfy { $0.format == .slack && $0.events.count == 4 })
        #expect(settings.retryBase == .milliseconds(200))
    }

    @Test("retries double from the base up to the cap; 2xx delivers, a 4xx but 408 and 429 gives up")
    func retryPolicy() throws {
        let settings = try Self.settings(["webhook.secret": Self.referenceSecret])
        #expect(settings.delay(after: 1) == .seconds(5))
        #expect(settings.delay(after: 2) == .seconds(10))
        #expect(settings.delay(after: 4) == .seconds(40))
        #expect(settings.delay(after: 20) == settings.maximumDelay)
        #expect(settings.next(afterAttempt: 1, status: 204) == .delivered)
        #expect(settings.next(afterAttempt: 1, status: 410) == .failed)
        #expect(settings.next(afterAttempt: 1, status: 400) == .failed)
        #expect(settings.next(afterAttempt: 1, status: 429) == .retry(after: .seconds(5)))
        #expect(settings.next(afterAttempt: 2, status: 408) == .retry(after: .seconds(10)))
        #expect(settings.next(afterAttempt: 3, status: 500) == .retry(after: .seconds(20)))
        #expect(settings.next(afterAttempt: 1, status: 302) == .retry(after: .seconds(5)))
        #expect(settings.next(afterAttempt: 1, status: nil) == .retry(after: .seconds(5)))
        #expect(settings.next(afterAttempt: 8, status: 503) == .failed)
    }

    static let requested: JSONObject = [
        "run_id": "6f1c2d3e-0000-4000-8000-000000000001", "flow": "deploy", "version": 3,
        "correlation_id": "c-1", "step": "review", "attempt": 1, "approval_id": "ap-1",
    ]

    @Test("the standard body is type, timestamp and the event as data")
    func standardBody() throws {
        let body = WebhookBody.render(
            .approvalRequested, data: Self.requested, format: .standard,
            at: Date(timeIntervalSince1970: 1_614_265_330))
        #expect(body["type"] == "approval.requested")
        #expect(body["timestamp"] == "2021-02-25T15:02:10Z")
        #expect(body["data"] == .object(Self.requested))
    }

    @Test("the slack body is one escaped line for people")
    func slackBody() throws {
        let at = Date()
        #expect(
            WebhookBody.render(.approvalRequested, data: Self.requested, format: .slack, at: at)
                == [
                    "text":
                        "Approval requested for deploy (run 6f1c2d3e-0000-4000-8000-000000000001, step review)"
                ])
        var decided = Self.requested
        decided["decision"] = "request_changes"
        decided["actor"] = "alice"
        #expect(
            WebhookBody.slackText(.approvalDecided, data: decided)
                == "Approval changes requested by alice for deploy (run 6f1c2d3e-0000-4000-8000-000000000001, step review)"
        )
        #expect(
            WebhookBody.slackText(.approvalReminder, data: Self.requested)
                == "Approval still pending for deploy (run 6f1c2d3e-0000-4000-8000-000000000001, step review)"
        )
        let failed: JSONObject = [
            "run_id": "r", "flow": "a<b>&c", "outcome": "failed", "failed_steps": ["build", "test"],
            "reason": "step build failed\nsecond line",
        ]
        #expect(
            WebhookBody.slackText(.runFailed, data: failed)
                == "Run failed for a&lt;b&gt;&amp;c (run r, failed steps: build, test): step build failed")
    }

    @Test("a response excerpt is short and printable: no NUL, no control characters")
    func excerpt() {
        #expect(WebhookPost.excerpt(Array("ok\u{0}\n\tdone".utf8)) == "ok   done")
        #expect(WebhookPost.excerpt([]) == nil)
        #expect(WebhookPost.excerpt([0xFF, 0x41]) == "\u{FFFD}A")
        #expect(WebhookPost.excerpt(Array(String(repeating: "x", count: 5000).utf8))?.count == 200)
    }

    @Test("configured URLs come first and a URL gets one delivery; a flow's entry only its events")
    func targets() {
        let configured = [WebhookTarget(url: "https://ops.example/hook")]
        let flow = [
            FlowNotification(url: "https://ops.example/hook", format: .slack),
            FlowNotification(url: "https://team.example/hook", events: [.runFailed], format: .slack),
        ]
        #expect(
            WebhookTarget.targets(for: .approvalRequested, configured: configured, flow: flow)
                == [WebhookTarget(url: "https://ops.example/hook")])
        #expect(
            WebhookTarget.targets(for: .runFailed, configured: configured, flow: flow).map(\.url)
                == ["https://ops.example/hook", "https://team.example/hook"])
    }
}
