import Foundation
import Hummingbird
import KeelStore

/// Triggers that did not become runs, newest first: why each was refused, the field at fault, and where
/// it came from (flow, routing key, correlation id), so an operator can tell a publisher what to fix. The
/// bodies are not stored; they wait in the broker's dead-letter queue.
enum DeadLettersPage {
    static let pageSize = 50
    /// The dead-letter queue refused trigger messages go to.
    static let queue = "keel.dead.keel.triggers"

    static func response(
        _ rejections: [TriggerRejectionRecord], paged: Bool, viewer: PageLayout.Viewer, now: Date
    ) -> Response {
        let rows = rejections.map { rejection -> HTML in
            """
            <tr><td>\(ConsoleFormat.time(rejection.receivedAt)) <small>(\(ConsoleFormat.ago(rejection.receivedAt, now: now)))</small></td>\
            <td><code>\(rejection.reason)</code></td><td>\(rejection.field ?? "")</td>\
            <td class="rejection-message">\(rejection.message)</td><td>\(rejection.flow ?? "—")</td>\
            <td><code>\(rejection.routingKey)</code></td><td><code>\(rejection.correlationID ?? "—")</code></td>\
            <td>\(ConsoleFormat.size(Int64(rejection.bodyBytes)))</td></tr>

            """
        }
        let older: HTML =
            if rejections.count >= pageSize, let last = rejections.last {
                "<p class=\"pager\"><a id=\"older\" href=\"\(ConsoleLinks.deadLetters)?before=\(last.id)\">Older</a></p>"
            } else {
                .empty
            }
        let table: HTML =
            rejections.isEmpty
            ? (paged ? "<p>No older refused triggers.</p>" : "<p>No trigger has been refused.</p>")
            : """
            <table class="dead-letters">
            <thead><tr><th>Received</th><th>Reason</th><th>Field</th><th>Message</th><th>Flow</th>\
            <th>Routing key</th><th>Correlation id</th><th>Body</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            \(older)
            """
        let body: HTML = """
            <h1>Dead letters</h1>
            <p>Triggers that were refused and did not become runs. Their message bodies are in the broker's \
            <code>\(queue)</code> queue; the publisher that asked for a reply got these reasons too.</p>
            \(table)
            """
        return PageLayout.response(
            title: "Dead letters", viewer: viewer, body: body, section: ConsoleLinks.deadLetters)
    }

    /// A 400 page for a `before` that is not a rejection id.
    static func badPosition(viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .badRequest, title: "Dead letters", viewer: viewer,
            body: """
                <h1>Dead letters</h1>
                \(PageLayout.message("The before value is not a dead letter's position; start from the newest.", kind: "error"))
                <p><a href="\(ConsoleLinks.deadLetters)">Newest dead letters</a></p>
                """, section: ConsoleLinks.deadLetters)
    }
}
