import Foundation
import KeelCore
import Hummingbird
import KeelStore

/// Recent webhook deliveries, newest first, each with every attempt made: what was sent (event, flow,
/// run), where (target and format), and what became of it (status, each attempt's answer or error class,
/// its duration and time, the last error). While a listed delivery is pending the page reloads itself
/// every `refreshSeconds` seconds, as the runs page does.
///
/// A target URL can be a credential itself (Slack's carry their secret in the path; any URL may carry a
/// user and password), so admins see it whole and everyone else only its scheme, host and port.
enum WebhooksPage {
    static let pageSize = 50
    static let refreshSeconds = 10

    static func response(_ deliveries: [WebhookDeliveryRecord], viewer: PageLayout.Viewer, now: Date)
        -> Response
    {
        let rows = deliveries.map { row($0, fullURL: viewer.isAdmin, now: now) }
        let table: HTML =
            deliveries.isEmpty
            ? "<p>No webhook has been sent.</p>"
            : """
            <table class="webhooks">
            <thead><tr><th>Created</th><th>Event and flow</th><th>Run</th><th>Target and format</th>\
            <th>Status</th><th>Attempts</th><th>Last error</th><th>Delivered</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
        let urls: HTML =
            viewer.isAdmin
            ? .empty
            : " Targets show their scheme and host only: a webhook URL can be a secret, so admins alone see it whole."
        let body: HTML = """
            <h1>Webhook deliveries</h1>
            <p>The newest \(pageSize) webhooks the approval-service was asked to send, newest first, with \
            every attempt. Failed attempts are tried again with a growing delay, up to 8 attempts \
            (see docs/notifications.md).\(urls)</p>
            \(table)
            """
        let live = deliveries.contains { $0.status == "pending" }
        return PageLayout.response(
            title: "Webhook deliveries", viewer: viewer, body: body, refresh: live ? refreshSeconds : nil,
            section: ConsoleLinks.webhooks)
    }

    private static func row(_ delivery: WebhookDeliveryRecord, fullURL: Bool, now: Date) -> HTML {
        let run = delivery.runID
        let attempts = delivery.attemptsMade.map { attempt -> HTML in
            let answer: HTML =
                if let status = attempt.statusCode {
                    "HTTP \(status)"
                } else {
                    "<code>\(attempt.errorClass ?? "no answer")</code>"
                }
            let excerpt: HTML =
                if let text = attempt.responseExcerpt, !text.isEmpty {
                    "<br><small class=\"excerpt\">\(text)</small>"
                } else {
                    .empty
                }
            return """
                <li class="attempt">#\(attempt.attempt) \(answer) · \
                \(TimelineView.seconds(Int64(attempt.durationMilliseconds)))\
                <br><small>\(ConsoleFormat.time(attempt.attemptedAt))</small>\(excerpt)</li>
                """
        }
        let claimed = delivery.attempts - delivery.attemptsMade.count
        let inFlight: HTML =
            claimed > 0 && delivery.status == "pending"
            ? "<p class=\"muted\">\(claimed) attempt under way</p>" : .empty
        let next: HTML =
            delivery.status == "pending"
            ? "<br><small>next \(ConsoleFormat.time(delivery.nextAttemptAt))</small>" : .empty
        let delivered: HTML =
            delivery.deliveredAt.map { date -> HTML in
                "\(ConsoleFormat.time(date)) <small>(\(ConsoleFormat.duration(from: delivery.createdAt, to: date)) after)</small>"
            } ?? "—"
        return """
            <tr id="delivery-\(delivery.id)"><td>\(ConsoleFormat.time(delivery.createdAt)) \
            <small>(\(ConsoleFormat.ago(delivery.createdAt, now: now)))</small></td>\
            <td><code>\(delivery.eventType)</code><br>\
            <a href="\(ConsoleLinks.flow(delivery.flow))">\(delivery.flow)</a></td>\
            <td><a href="\(ConsoleLinks.run(run))"><code class="id">\(ConsoleFormat.shortID(run))</code></a></td>\
            <td class="url"><code>\(fullURL ? delivery.targetURL : shownURL(delivery.targetURL))</code>\
            <br><small class="format">\(delivery.format)</small></td>\
            <td>\(PageLayout.status(delivery.status))\(next)</td>\
            <td><ol class="attempts">\(attempts)</ol>\(inFlight)</td>\
            <td class="last-error">\(delivery.lastError ?? "—")</td><td>\(delivered)</td></tr>

            """
    }

    /// The URL as people other than admins see it: `https://hooks.example:8443/…`, no user, password,
    /// path or query. Read by hand rather than by `URLComponents`, which gives up on a URL holding
    /// characters it must not (and then the host would be lost too); one without `scheme://` is hidden.
    static func shownURL(_ url: String) -> String {
        guard let separator = url.range(of: "://"), !url[..<separator.lowerBound].isEmpty else {
            return "(hidden)"
        }
        let afterScheme = url[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let host = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        guard !host.isEmpty else { return "(hidden)" }
        let rest = afterScheme[authorityEnd...]
        return url[..<separator.upperBound] + host + (rest.isEmpty || rest == "/" ? "" : "/…")
    }
}
