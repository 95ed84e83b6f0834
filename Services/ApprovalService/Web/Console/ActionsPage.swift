import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// The record of what people did through the operators' API (`api_actions`), newest first: who (the
/// token's name and role), what, to which run, flow or token, and whether it was done, refused by the
/// state it met, or forbidden by the role. Admins only: it names every token holder and what they tried.
enum ActionsPage {
    static let pageSize = 100

    static func response(_ actions: [APIAction], viewer: PageLayout.Viewer, now: Date) -> Response {
        let rows = actions.map { action -> HTML in
            let at: HTML =
                action.at.map { date -> HTML in
                    "\(ConsoleFormat.time(date)) <small>(\(ConsoleFormat.ago(date, now: now)))</small>"
                } ?? "—"
            return """
                <tr><td>\(at)</td><td>\(action.principal)</td><td>\(action.role)</td>\
                <td><code>\(action.action)</code></td><td>\(target(action))</td>\
                <td>\(PageLayout.status(action.outcome.rawValue))</td>\
                <td class="action-detail">\(action.detail ?? "—")</td></tr>

                """
        }
        let table: HTML =
            actions.isEmpty
            ? "<p>No action has been taken through the API.</p>"
            : """
            <table class="actions">
            <thead><tr><th>At</th><th>Principal</th><th>Role</th><th>Action</th><th>Target</th>\
            <th>Outcome</th><th>Detail</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
        let body: HTML = """
            <h1>API actions</h1>
            <p>The newest \(pageSize) actions taken through the operators' API, newest first: done, refused by \
            the state they met, or forbidden by the token's role. The API's <code>GET /v1/actions</code> \
            reads the same record.</p>
            \(table)
            """
        return PageLayout.response(
            title: "API actions", viewer: viewer, body: body, section: ConsoleLinks.actions)
    }

    /// The page for a token that is not an admin's.
    static func forbidden(viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .forbidden, title: "API actions", viewer: viewer,
            body: """
                <h1>API actions</h1>
                \(PageLayout.message("Only admin tokens may see the record of API actions.", kind: "error"))
                <p><a href="\(ConsoleLinks.runs)">Runs</a></p>
                """, section: ConsoleLinks.actions)
    }

    /// The target, linked to its run or flow when the action names one.
    private static func target(_ action: APIAction) -> HTML {
        if action.action.hasPrefix("run."), let run = RunID(action.target) {
            return
                "<a href=\"\(ConsoleLinks.run(run))\"><code class=\"id\">\(ConsoleFormat.shortID(run))</code></a>"
        }
        if action.action.hasPrefix("flow."), action.target.isStorable, !action.target.isEmpty {
            return "<a href=\"\(ConsoleLinks.flow(action.target))\">\(action.target)</a>"
        }
        return "\(action.target)"
    }
}
