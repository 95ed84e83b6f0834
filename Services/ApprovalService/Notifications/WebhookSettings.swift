import Configuration
import Foundation
import KeelCore
import KeelService
import KeelStore

/// The approval-service's webhook settings (docs/notifications.md#settings), read like every other
/// setting: a flag (`--webhook-urls`) or a `KEEL_`-prefixed environment variable (`KEEL_WEBHOOK_URLS`).
///
/// Without `webhook.secret` notifications are off, for configured URLs and flows' `notify:` alike: an
/// unsigned webhook would let anyone who can reach a receiver forge approvals' news. URLs without a
/// secret are refused at start rather than silently not sent.
struct WebhookSettings: Sendable {
    /// `KEEL_WEBHOOK_URLS`: posted every event, in `format`.
    var configuredTargets: [WebhookTarget]
    /// Nil: notifications are off.
    var secret: WebhookSecret?
    /// The first retry's delay; each next one doubles, up to `maximumDelay`.
    var retryBase: Duration
    var maximumDelay: Duration = .seconds(15 * 60)
    /// Attempts before a delivery is `failed`.
    var maximumAttempts = 8
    /// Longest one attempt (connect, send, response) may take.
    var timeout: Duration = .seconds(10)

    var enabled: Bool { secret != nil }

    static let defaultRetryBase = Duration.seconds(5)

    /// Reads the settings through the service's reader.
    init(reader: ConfigReader) throws {
        try self.init(value: { key, isSecret in reader.string(forKey: ConfigKey(key), isSecret: isSecret) })
    }

    /// - Parameter value: the setting's text for a key (`webhook.urls`), and whether it is a secret
    ///   (never shown in configuration access logs).
    init(value: (_ key: String, _ isSecret: Bool) -> String?) throws {
        let format: NotificationFormat
        let formatText = value("webhook.format", false) ?? NotificationFormat.standard.rawValue
        guard let parsedFormat = NotificationFormat(rawValue: formatText) else {
            throw WebhookSettingsError(
                setting: "webhook.format", value: formatText, expected: "standard or slack")
        }
        format = parsedFormat
        var urls: [String] = []
        for part in (value("webhook.urls", false) ?? "").split(separator: ",") {
            let url = part.trimmingCharacters(in: .whitespaces)
            guard !url.isEmpty else { continue }
            if let problem = FlowNotification.urlProblem(url) {
                // The URL is not repeated: a webhook URL (Slack's) can be a credential itself.
                throw WebhookSettingsError(
                    setting: "webhook.urls", value: "(entry \(urls.count + 1))", expected: problem)
            }
            if !urls.contains(url) { urls.append(url) }
        }
        configuredTargets = urls.map { WebhookTarget(url: $0, format: format) }
        if let text = value("webhook.secret", true), !text.isEmpty {
            do {
                secret = try WebhookSecret(parsing: text)
            } catch {
                throw WebhookSettingsError(
                    setting: "webhook.secret", value: "(hidden)", expected: error.description)
            }
        } else if !urls.isEmpty {
            throw WebhookSettingsError(
                setting: "webhook.secret", value: "(not set)",
                expected:
                    "a whsec_<base64> signing secret when webhook.urls is set; without one no webhook is sent"
            )
        }
        let baseText = value("webhook.retry.base", false) ?? "5s"
        guard let base = FlowDuration(parsing: baseText), base.milliseconds >= 10,
            base.milliseconds <= 3_600_000
        else {
            throw WebhookSettingsError(
                setting: "webhook.retry.base", value: baseText,
                expected: "a duration between 10ms and 1h, e.g. 5s")
        }
        retryBase = base.duration
    }

    /// The delay after a failed `attempt` (from 1): `retryBase` doubling, capped at `maximumDelay`.
    func delay(after attempt: Int) -> Duration {
        var delay = retryBase
        for _ in 1..<max(1, attempt) {
            delay *= 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }

    /// What follows an attempt that got `status` (nil: no response at all): 2xx is delivered; a 4xx
    /// other than 408 and 429 is a refusal no retry changes; anything else is tried again while attempts
    /// remain. Redirects are not followed, so a 3xx is retried like a server error.
    func next(afterAttempt attempt: Int, status: Int?) -> WebhookNextStep {
        if let status, (200..<300).contains(status) { return .delivered }
        if let status, (400..<500).contains(status), status != 408, status != 429 { return .failed }
        return attempt >= maximumAttempts ? .failed : .retry(after: delay(after: attempt))
    }
}

/// A webhook setting that cannot be used: names the setting and what was expected, never a secret.
struct WebhookSettingsError: ConfigurationProblem {
    let setting: String
    let value: String
    let expected: String
    var description: String { "invalid setting \(setting)=\(value): expected \(expected)" }
}
