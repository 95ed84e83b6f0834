import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Webhook deliveries in PostgreSQL: one per event and URL, claimed by one sender at a time for a lease,
/// and moved on only by the attempt that holds the latest claim.
@Suite("Webhook delivery store", .serialized)
struct WebhookDeliveryStoreTests {
    static func event(_ id: String = UUID().uuidString) -> WebhookEvent {
        WebhookEvent(messageID: id, type: .approvalRequested, runID: RunID(UUID()), flow: "deploy")
    }

    static func deliveries(_ urls: [String]) -> [NewWebhookDelivery] {
        urls.map { NewWebhookDelivery(target: WebhookTarget(url: $0), body: ["type": "approval.requested"]) }
    }

    @Test("a redelivered event adds no delivery for a URL it already has")
    func idempotent() async throws {
        try await withMigratedDatabase { pool in
            let store = WebhookDeliveryStore(pool: pool)
            let event = Self.event()
            let urls = ["https://a/x", "https://b/x"]
            let first = try await store.enqueue(event, deliveries: Self.deliveries(urls))
            let again = try await store.enqueue(event, deliveries: Self.deliveries(urls))
            let stored = try await store.recentDeliveries(limit: 10)
            #expect(first == 2 && again == 0)
            #expect(stored.count == 2)
        }
    }

    @Test("concurrent claims take disjoint deliveries, and a claimed one waits for its lease")
    func claimsAreExclusive() async throws {
        try await withMigratedDatabase { pool in
            let store = WebhookDeliveryStore(pool: pool)
            let urls = (0..<20).map { "https://hooks.example/\($0)" }
            try await store.enqueue(Self.event(), deliveries: Self.deliveries(urls))
            async let first = store.claimDue(limit: 12, lease: .seconds(60), maximumAttempts: 8)
            async let second = store.claimDue(limit: 12, lease: .seconds(60), maximumAttempts: 8)
            let (a, b) = try await (first, second)
            #expect(a.count + b.count == 20)
            #expect(Set(a.map(\.id)).isDisjoint(with: Set(b.map(\.id))))
            #expect((a + b).allSatisfy { $0.attempt == 1 })
            #expect(try await store.claimDue(limit: 50, lease: .seconds(60), maximumAttempts: 8).isEmpty)
        }
    }

    @Test("only the latest claim's attempt moves a delivery on; every attempt is kept")
    func staleAttemptsDecideNothing() async throws {
        try await withMigratedDatabase { pool in
            let store = WebhookDeliveryStore(pool: pool)
            try await store.enqueue(Self.event(), deliveries: Self.deliveries(["https://a/x"]))
            // A lease that has already passed: the delivery is claimable again at once.
            let stale = try #require(
                try await store.claimDue(limit: 1, lease: .zero, maximumAttempts: 8).first)
            let latest = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 8).first)
            #expect(latest.id == stale.id && latest.attempt == 2)
            let failed = WebhookAttemptResult(
                statusCode: 500, errorClass: nil, responseExcerpt: "oops", durationMilliseconds: 12)
            #expect(try await store.record(stale, result: failed, next: .retry(after: .zero)) == false)
            let ok = WebhookAttemptResult(
                statusCode: 200, errorClass: nil, responseExcerpt: nil, durationMilliseconds: 3)
            #expect(try await store.record(latest, result: ok, next: .delivered))
            let shown = try #require(try await store.recentDeliveries(limit: 1).first)
            #expect(shown.status == "delivered" && shown.deliveredAt != nil && shown.lastError == nil)
            #expect(shown.attemptsMade.map(\.statusCode) == [500, 200])
            #expect(shown.attemptsMade.first?.responseExcerpt == "oops")
            // Attempts are append-only.
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { try await $0.execute("DELETE FROM webhook_attempts") }
            }
            #expect(error != nil)
        }
    }

    @Test("a retry waits its delay; a delivery whose last attempt never reported back is failed")
    func retriesAndLostAttempts() async throws {
        try await withMigratedDatabase { pool in
            let store = WebhookDeliveryStore(pool: pool)
            try await store.enqueue(Self.event(), deliveries: Self.deliveries(["https://a/x"]))
            let claimed = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 1).first)
            let result = WebhookAttemptResult(
                statusCode: nil, errorClass: "timeout", responseExcerpt: nil, durationMilliseconds: 10_000)
            #expect(try await store.record(claimed, result: result, next: .retry(after: .seconds(30))))
            #expect(try await store.claimDue(limit: 1, lease: .seconds(60), maximumAttempts: 8).isEmpty)
            let pending = try #require(try await store.recentDeliveries(limit: 1).first)
            #expect(pending.status == "pending" && pending.lastError == "timeout")
            #expect(pending.nextAttemptAt > Date().addingTimeInterval(20))

            try await store.enqueue(Self.event(), deliveries: Self.deliveries(["https://b/x"]))
            _ = try await store.claimDue(limit: 1, lease: .zero, maximumAttempts: 1)
            _ = try await store.claimDue(limit: 1, lease: .zero, maximumAttempts: 1)
            let lost = try #require(
                try await store.recentDeliveries(limit: 5).first { $0.targetURL == "https://b/x" })
            #expect(lost.status == "failed" && lost.attempts == 1)
        }
    }
}
