import Foundation
import KeelCore

/// Repeats a callback request until it gets a final answer or time runs out.
///
/// Both requests are safe to repeat: the gateway applies a wait's answer once (a repeat is answered
/// `already_answered`) and stores resources by content. So no answer, a 5xx and 429 are tried again after
/// an exponential backoff with jitter — the n-th wait a random time between half and all of
/// 0.5 s × 2ⁿ⁻¹, at most 30 s, or longer when `Retry-After` asks for it (up to 30 s) — while the next try
/// would still start before `deadline`. Any other answer, 4xx included, is final.
struct CallbackRetrier: Sendable {
    /// When the whole command (uploads and callback together) stops trying: `--retry-for` from its start.
    let deadline: ContinuousClock.Instant
    /// Told about each failed try before the wait, e.g. to write it on standard error.
    let notice: @Sendable (String) -> Void

    static let backoff = RetryPolicy(
        maxAttempts: 100, backoff: .exponential, initial: FlowDuration(milliseconds: 500),
        maximum: FlowDuration(milliseconds: 30_000))

    /// The wait after the `failures`-th failed try in a row; `fraction` (0…1) is the random part.
    static func delay(afterFailures failures: Int, retryAfter: Duration?, fraction: Double) -> Duration {
        let ceiling = RetryDelay.backoff(backoff, failures: failures).milliseconds
        let jittered = Int64(Double(ceiling) / 2 * (1 + min(max(fraction, 0), 1)))
        var delay = Duration.milliseconds(jittered)
        if let retryAfter {
            delay = max(delay, min(retryAfter, backoff.maximum?.duration ?? retryAfter))
        }
        return delay
    }

    /// Sends with `attempt` until an answer is final; gives up (an infrastructure failure, exit 2) when the
    /// next try would start after the deadline. `what` names the request in notices and the give-up
    /// message, e.g. `callback` or `upload of log`.
    func send(_ what: String, _ attempt: () async -> CallbackExchange) async throws -> (
        status: Int, body: Data
    ) {
        let clock = ContinuousClock()
        let started = clock.now
        var failures = 0
        while true {
            let exchange = await attempt()
            if case .answered(let status, let body, _) = exchange, !exchange.isTransient {
                return (status, body)
            }
            failures += 1
            var retryAfter: Duration?
            if case .answered(_, _, let after) = exchange { retryAfter = after }
            let delay = Self.delay(
                afterFailures: failures, retryAfter: retryAfter, fraction: Double.random(in: 0...1))
            guard clock.now + delay < deadline else {
                throw CLIFailure.infrastructure(
                    "gave up on the \(what) after \(failures) \(failures == 1 ? "try" : "tries") in "
                        + "\(Self.seconds(clock.now - started)) (--retry-for): \(exchange.failureReason)")
            }
            notice("\(what): \(exchange.failureReason); trying again in \(Self.seconds(delay))")
            try await Task.sleep(for: delay)
        }
    }

    /// `1.2s`: a duration for people.
    static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1fs", seconds)
    }
}
