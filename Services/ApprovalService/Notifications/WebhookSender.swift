import AsyncHTTPClient
import Foundation
import KeelService
import KeelStore
import Logging
import Metrics
import NIOHTTP1
import ServiceLifecycle

/// Posts due webhook deliveries, each attempt signed anew (Standard Webhooks), and records every
/// attempt (docs/notifications.md).
///
/// Replicas share the work through the table: each claims due deliveries with `FOR UPDATE SKIP LOCKED`
/// and a lease longer than an attempt can take, so two replicas never post the same attempt at once,
/// and a replica that dies mid-post leaves the delivery to be tried again once its lease passes.
struct WebhookSender: Service {
    let store: WebhookDeliveryStore
    let settings: WebhookSettings
    let secret: WebhookSecret
    let wakeup: WebhookWakeup
    let logger: Logger
    /// How often due deliveries (retries, other replicas' new ones) are looked for when idle: this
    /// replica's own new deliveries wake it at once (`wakeup`), so the poll only needs to be as fine as
    /// the retry delays, not a constant load of claims on PostgreSQL.
    var poll: Duration { min(max(settings.retryBase, .milliseconds(200)), .seconds(5)) }
    /// Deliveries claimed, and posted concurrently, at once.
    var batch = 16

    static let userAgent = "Keel-Webhooks/\(KeelVersion.current)"

    func run() async throws {
        // Consecutive failures to claim (the database is away): the wait grows, and so does the log's gap.
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var claimed: [ClaimedWebhookDelivery] = []
            do {
                claimed = try await store.claimDue(
                    limit: batch, lease: settings.timeout * 6, maximumAttempts: settings.maximumAttempts)
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures.isMultiple(of: 20) {
                    logger.warning(
                        "claiming webhook deliveries failed",
                        metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
            }
            if claimed.isEmpty {
                let pause = failures == 0 ? poll : min(poll * (1 << min(failures, 5)), .seconds(10))
                await cancelWhenGracefulShutdown { await wakeup.wait(upTo: pause) }
                continue
            }
            // Posts run to their end (at most the timeout) even during shutdown, so they are recorded.
            await withTaskGroup(of: Void.self) { group in
                for delivery in claimed {
                    group.addTask { await attempt(delivery) }
                }
            }
        }
    }

    /// Posts one attempt and records it with what follows.
    func attempt(_ delivery: ClaimedWebhookDelivery) async {
        let body = Array(delivery.body.utf8)
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: delivery.targetURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: Self.userAgent)
        for (name, value) in WebhookSignature.headers(
            id: delivery.id, timestamp: timestamp, body: body, secret: secret)
        {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(body)
        let started = ContinuousClock.now
        let outcome = await WebhookPost.perform(request, timeout: settings.timeout)
        let elapsed = ContinuousClock.now - started
        let result = WebhookAttemptResult(
            statusCode: outcome.status, errorClass: outcome.errorClass, responseExcerpt: outcome.excerpt,
            durationMilliseconds: Int(
                elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
        let next = settings.next(afterAttempt: delivery.attempt, status: outcome.status)
        let label: String
        switch next {
        case .delivered: label = "delivered"
        case .retry: label = "retry"
        case .failed: label = "failed"
        }
        Counter(label: "keel_webhook_attempts_total", dimensions: [("outcome", label)]).increment()
        // The URL is not logged: a webhook URL (Slack's) can be a credential itself.
        let fields: Logger.Metadata = [
            "webhook_id": "\(delivery.id)", "attempt": "\(delivery.attempt)", "result": "\(result.summary)",
            "outcome": "\(label)",
        ]
        if case .delivered = next {
            logger.info("webhook delivered", metadata: fields)
        } else {
            logger.warning("webhook attempt failed", metadata: fields)
        }
        do {
            try await store.record(delivery, result: result, next: next)
        } catch {
            // The claim's lease passes and the delivery is tried again: at least once.
            logger.warning(
                "recording a webhook attempt failed", metadata: fields.merging(["error": "\(error)"]) { $1 })
        }
    }
}
