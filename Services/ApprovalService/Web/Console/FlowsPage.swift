import Foundation
import Hummingbird
import KeelStore

/// Every flow by name with its live release and newest version: which flows exist and whether a pushed
/// version is still waiting to be released.
enum FlowsPage {
    static func response(_ flows: [FlowSummary], viewer: PageLayout.Viewer) -> Response {
        let rows = flows.map { flow -> HTML in
            let pending: HTML =
                flow.liveVersion.map { $0 < flow.latestVersion } ?? true
                ? " <small>(not released)</small>" : .empty
            return """
                <tr><td><a href="\(ConsoleLinks.flow(flow.name))">\(flow.name)</a></td><td>\(flow.description)</td>\
                <td>\(flow.liveVersion.map { "v\($0)" } ?? "none")</td><td>v\(flow.latestVersion)\(pending)</td>\
                <td>\(ConsoleFormat.time(flow.updatedAt))</td>\
                <td><a href="\(ConsoleLinks.runs(of: flow.name))">runs</a></td></tr>

                """
        }
        let body: HTML =
            flows.isEmpty
            ? "<h1>Flows</h1>\n<p>No flow has been pushed yet (<code>keel flow push</code>).</p>"
            : """
            <h1>Flows</h1>
            <table class="flows">
            <thead><tr><th>Flow</th><th>Description</th><th>Live</th><th>Newest</th><th>Updated</th><th></th>\
            </tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
        return PageLayout.response(title: "Flows", viewer: viewer, body: body, section: ConsoleLinks.flows)
    }
}
