import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Synchronization
import Testing

/// Webhook notifications end to end (docs/notifications.md): the real services on their own database
/// and virtual host post signed webhooks to a receiver in this process, which checks each signature
/// with the secret as any receiver would. A receiver's 500 is retried with the same `webhook-id`, its
/// 410 is not; every attempt is recorded.
@Suite(.serialized) struct WebhookNotificationTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static var key: SymmetricKey {
        SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst("whsec_".count))) ?? Data())
    }

    /// One request the receiver got.
    struct Received: Sendable {
        var path: String
        var id: String
        var timestamp: String
        var signature: String
        var body: [UInt8]
        var json: JSONValue? { try? JSONValue(parsing: body) }
        var type: String? { json?["type"]?.stringValue }

        /// The Standard Webhooks check: HMAC-SHA256 of `<id>.<timestamp>.<body>` with the secret's key,
        /// compared with each `v1,` entry of the header.
        var signatureIsValid: Bool {
            let message = Array("\(id).\(timestamp).".utf8) + body
            let expected = Data(
                HMAC<SHA256>.authenticationCode(for: message, using: WebhookNotificationTests.key))
            return signature.split(separator: " ").contains { entry in
                entry.hasPrefix("v1,") && Data(base64Encoded: String(entry.dropFirst(3))) == expected
            }
        }
    }

    /// `/hook` answers 500 to the first attempt of each webhook id and 200 after; `/gone` always 410.
    final class Receiver: Sendable {
        let requests = Mutex<[Received]>([])

        func answer(path: String, id: String, timestamp: String, signature: String, body: [UInt8])
            -> HTTPResponse.Status
        {
            let seenBefore = requests.withLock { requests in
                let seen = requests.contains { $0.path == path && $0.id == id }
                requests.append(
                    Received(path: path, id: id, timestamp: timestamp, signature: signature, body: body))
                return seen
            }
            if path == "/gone" { return .gone }
            return seenBefore ? .ok : .internalServerError
        }

        func received(_ path: String) -> [Received] { requests.withLock { $0.filter { $0.path == path } } }

        /// Waits until `predicate` holds of the requests to `path`.
        func waitFor(
            _ path: String, timeout: Duration = .seconds(90), _ predicate: ([Received]) -> Bool
        ) async throws -> [Received] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let got = received(path)
                if predicate(got) { return got }
                try await Task.sleep(for: .milliseconds(100))
            }
            return received(path)
        }
    }

    static func approvalFlow(port: Int) -> String {
        """
        flow: notified
        notify:
          - url: "http://127.0.0.1:\(port)/hook"
        steps:
          - id: gate
            approval:
              approvers: ["group:reviewers"]
          - id: after
            needs: [gate]
            noop: {}
        """
    }

    static func failingFlow(port: Int) -> String {
        """
        flow: notified-fail
        notify:
          - {url: "http://127.0.0.1:\(port)/hook", events: [run.failed], format: slack}
        steps:
          - id: broken
            run: {command: ["false"]}
        """
    }

    @Test(
        "approvals and failed runs are posted signed, retried after a 500 with the same id, not after a 410")
    func signedRetriedAndRecorded() async throws {
        let receiver = Receiver()
        let router = Router()
        let webhookID = HTTPField.Name("webhook-id")!
        let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
        let webhookSignature = HTTPField.Name("webhook-signature")!
        for path in ["hook", "gone"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
                let status = receiver.answer(
                    path: "/" + path, id: request.headers[webhookID] ?? "",
                    timestamp: request.headers[webhookTimestamp] ?? "",
                    signature: request.headers[webhookSignature] ?? "", body: body)
                return Response(status: status, body: .init(byteBuffer: .init(string: "answer\u{0}\n")))
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let stack = try await EngineStack(
                flows: [Self.approvalFlow(port: port), Self.failingFlow(port: port)],
                environment: [
                    "KEEL_WEBHOOK_SECRET": Self.secret, "KEEL_WEBHOOK_URLS": "http://127.0.0.1:\(port)/gone",
                    "KEEL_WEBHOOK_RETRY_BASE": "200ms", "KEEL_RUN_PATH": "/usr/bin:/bin",
                    "KEEL_STEP_ISOLATION": "none",
                ])
            do {
                try await body(stack, receiver)
            } catch {
                Issue.record("\(error)\n\(stack.logs)")
            }
            try await stack.stop()
        }
    }

    func body(_ stack: EngineStack, _ receiver: Receiver) async throws {
        let approvals = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
        let rui = try await stack.token("rui", groups: ["reviewers"])
        try await stack.trigger("notified", key: "webhook-1")
        let run = try await stack.runID(key: "webhook-1", flow: "notified")

        // approval.requested: a 500, then the same delivery again, accepted.
        let requested = try await receiver.waitFor("/hook") { got in
            got.filter { $0.type == "approval.requested" }.count >= 2
        }.filter { $0.type == "approval.requested" }
        try #require(requested.count == 2, "\(stack.logs)")
        #expect(requested.allSatisfy { $0.signatureIsValid }, "a signature does not verify")
        #expect(requested[0].id == requested[1].id, "a retry has another webhook-id")
        #expect(requested[0].id.hasPrefix("msg_"))
        #expect(requested[0].body == requested[1].body, "a retry posts other bytes")
        let data = try #require(requested[0].json?["data"])
        #expect(data["run_id"]?.stringValue == run)
        #expect(data["flow"] == "notified")
        #expect(data["step"] == "gate")
        #expect(data["approval_id"]?.stringValue != nil)
        let timestamp = try #require(Int(requested[0].timestamp))
        #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 300)

        // Both attempts are recorded, in order, and the delivery is delivered. The receiver answers
        // before the sender records the answer, so wait for the record (bounded far beyond need).
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let status = try await stack.pool.withConnection { connection in
                try await connection.query(
                    "SELECT status FROM webhook_deliveries WHERE id = \(requested[0].id)"
                ).first?.decode((String).self)
            }
            if status != "pending" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let attempts = try await stack.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT a.attempt, a.status_code, d.status, d.attempts FROM webhook_attempts a
                JOIN webhook_deliveries d ON d.id = a.delivery_id
                WHERE a.delivery_id = \(requested[0].id) ORDER BY a.attempt
                """
            ).map { try $0.decode((Int, Int?, String, Int).self) }
        }
        #expect(attempts.map(\.0) == [1, 2])
        #expect(attempts.map(\.1) == [500, 200])
        #expect(attempts.last?.2 == "delivered")

        // The decision is posted too, with who decided.
        let pending = try await approvals.pending(run: run, step: "gate", token: rui)
        let approvalID = try #require(pending["id"] as? String)
        #expect(try await approvals.decide(approvalID, "approve", token: rui).status == 200)
        #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
        let decided = try await receiver.waitFor("/hook") { got in
            got.contains { $0.type == "approval.decided" && $0.json?["data"]?["decision"] == "approve" }
        }.filter { $0.type == "approval.decided" }
        #expect(decided.last?.json?["data"]?["actor"]?.stringValue?.contains("rui") == true)
        #expect(decided.allSatisfy { $0.signatureIsValid })

        // A failed run: its flow asked for run.failed only, in Slack's format.
        try await stack.trigger("notified-fail", key: "webhook-2")
        let failedRun = try await stack.runID(key: "webhook-2", flow: "notified-fail")
        #expect(try await stack.finish(failedRun, expected: "failed") == "failed")
        let slack = try await receiver.waitFor("/hook") { got in
            got.contains { $0.json?["text"]?.stringValue?.hasPrefix("Run failed for notified-fail") == true }
        }.filter { $0.json?["text"] != nil }
        let line = try #require(slack.last?.json?["text"]?.stringValue)
        #expect(line.contains(failedRun))
        #expect(slack.allSatisfy { $0.signatureIsValid })
        #expect(!receiver.received("/hook").contains { $0.json?["data"]?["flow"] == "notified-fail" })

        // The configured URL answers 410: each of its deliveries was tried once and failed.
        // Its delivery of the failed run's event may still be on its way.
        let gone = try await receiver.waitFor("/gone") { $0.count >= 3 }
        #expect(gone.count >= 3, "the configured URL got \(gone.count) requests")
        try await Task.sleep(for: .seconds(2))
        let goneNow = receiver.received("/gone")
        #expect(Set(goneNow.map(\.id)).count == goneNow.count, "a 410 was retried")
        let goneRows = try await stack.pool.withConnection { connection in
            try await connection.query(
                "SELECT status, attempts FROM webhook_deliveries WHERE target_url LIKE '%/gone'"
            ).map { try $0.decode((String, Int).self) }
        }
        #expect(!goneRows.isEmpty && goneRows.allSatisfy { $0 == ("failed", 1) }, "\(goneRows)")

        // What an operator's page shows: deliveries with their attempts.
        let recent = try await WebhookDeliveryStore(pool: stack.pool).recentDeliveries(limit: 50)
        let shown = try #require(recent.first { $0.id == requested[0].id })
        #expect(shown.attemptsMade.map(\.statusCode) == [500, 200])
        #expect(shown.attemptsMade.first?.responseExcerpt == "answer")
        #expect(recent.contains { $0.status == "failed" && $0.attemptsMade.map(\.statusCode) == [410] })

        // The secret is nowhere: not in the logs, not in the database.
        let keyText = String(Self.secret.dropFirst("whsec_".count))
        #expect(!stack.logs.contains(keyText))
        let stored = try await stack.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT count(*)::int8 FROM webhook_deliveries d
                WHERE d.body::text LIKE \("%" + keyText + "%") OR d.last_error LIKE \("%" + keyText + "%")
                """
            ).first?.decode((Int).self)
        }
        #expect(stored == 0)
    }

    @Test("a flow whose notify URL is not http(s) is refused at push")
    func pushRefusesOtherSchemes() async throws {
        let database = try await TestDatabase.create()
        do {
            try await pushRefused(database)
        } catch {
            Issue.record("\(error)")
        }
        try await database.drop()
    }

    func pushRefused(_ database: TestDatabase) async throws {
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "notify-\(UUID().uuidString).yaml")
        try "flow: hostile\nnotify:\n  - url: file:///etc/passwd\nsteps:\n  - {id: a, noop: {}}\n".write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let pushed = try await ServiceProcess.run(
            "keel", arguments: ["flow", "push", file.path],
            environment: ["KEEL_DATABASE_URL": database.url, "KEEL_ACTOR": "e2e"])
        #expect(pushed.status != 0)
        #expect(pushed.output.contains("notify[0].url"), "\(pushed.output)")
        #expect(pushed.output.contains("expected an absolute http:// or https:// URL"), "\(pushed.output)")
    }

    @Test("the approval-service refuses to start with webhook URLs but no secret")
    func urlsWithoutSecretRefused() async throws {
        let started = try await ServiceProcess.run(
            "approval-service", arguments: [],
            environment: [
                "KEEL_WEBHOOK_URLS": "https://hooks.example/keel", "KEEL_WEBHOOK_SECRET": "",
                "KEEL_HTTP_PORT": "\(TestHTTP.freePort())",
                // Never reached: the settings are refused first.
                "KEEL_DATABASE_URL": "postgres://nobody:x@127.0.0.1:1/none",
                "KEEL_AMQP_URL": "amqp://nobody:x@127.0.0.1:1/none",
            ], timeout: .seconds(60))
        #expect(started.status != 0)
        #expect(started.output.contains("webhook.secret"), "\(started.output)")
        #expect(!started.output.contains("hooks.example"), "the URL is repeated: \(started.output)")
    }
}
