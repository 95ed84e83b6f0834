import Foundation
import Hummingbird
import KeelStore

/// One flow: its versions (who pushed which, when, which is live), its release history (releases and
/// rollbacks with their reasons), and a form choosing two versions to compare.
enum FlowPage {
    static func response(
        flow: String, versions: [FlowVersionRecord], releases: [FlowReleaseRecord], live: Int?,
        viewer: PageLayout.Viewer
    ) -> Response {
        let body: HTML = """
            <h1>Flow <span id="flow-name">\(flow)</span></h1>
            <p><a href="\(ConsoleLinks.runs(of: flow))">Runs of this flow</a></p>
            <h2>Versions</h2>
            \(table(versions, flow: flow, live: live))
            \(versions.count >= 2 ? form(versions, flow: flow) : .empty)
            <h2>Release history</h2>
            \(history(releases))
            <p><a href="\(ConsoleLinks.flows)">All flows</a></p>
            """
        return PageLayout.response(title: flow, viewer: viewer, body: body, section: ConsoleLinks.flows)
    }

    /// The 404 page for a flow that does not exist.
    static func notFound(_ flow: String, viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .notFound, title: "Not found", viewer: viewer,
            body: """
                <h1>Not found</h1>
                \(PageLayout.message("There is no flow \(flow).", kind: "error"))
                <p><a href="\(ConsoleLinks.flows)">All flows</a></p>
                """, section: ConsoleLinks.flows)
    }

    private static func table(_ versions: [FlowVersionRecord], flow: String, live: Int?) -> HTML {
        let rows = versions.reversed().map { version -> HTML in
            let previous: HTML =
                version.version > 1
                ? "<a href=\"\(ConsoleLinks.diff(flow, from: version.version - 1, to: version.version))\">diff with v\(version.version - 1)</a>"
                : .empty
            return """
                <tr><td>v\(version.version)\(version.version == live ? " <strong>live</strong>" as HTML : .empty)</td>\
                <td>\(version.author)</td><td>\(ConsoleFormat.time(version.createdAt))</td>\
                <td><code title="\(version.sha256)">\(version.sha256.prefix(12))…</code></td><td>\(previous)</td></tr>

                """
        }
        return """
            <table class="versions">
            <thead><tr><th>Version</th><th>Pushed by</th><th>Pushed</th><th>SHA-256</th><th></th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }

    /// A plain GET form to the diff page: older version on the left, newer on the right by default.
    private static func form(_ versions: [FlowVersionRecord], flow: String) -> HTML {
        func options(selected: Int) -> HTML {
            versions.map { version -> HTML in
                version.version == selected
                    ? "<option value=\"\(version.version)\" selected>v\(version.version)</option>"
                    : "<option value=\"\(version.version)\">v\(version.version)</option>"
            }.joined()
        }
        let newest = versions.last?.version ?? 1
        return """
            <form class="filters" method="get" action="\(ConsoleLinks.flow(flow))/diff">
            <label>From <select id="diff-from" name="from">\(options(selected: newest - 1))</select></label>
            <label>To <select id="diff-to" name="to">\(options(selected: newest))</select></label>
            <button id="compare" type="submit">Compare</button>
            </form>
            """
    }

    private static func history(_ releases: [FlowReleaseRecord]) -> HTML {
        guard !releases.isEmpty else { return "<p>No version of this flow has been released.</p>" }
        let rows = releases.reversed().map { release -> HTML in
            """
            <tr><td>\(ConsoleFormat.time(release.createdAt))</td><td>\(release.kind.rawValue)</td>\
            <td>\(release.fromVersion.map { "v\($0)" } ?? "—") → v\(release.toVersion)</td>\
            <td>\(release.actor)</td><td>\(release.reason ?? "")</td></tr>

            """
        }
        return """
            <table class="releases">
            <thead><tr><th>When</th><th>Kind</th><th>Live version</th><th>By</th><th>Reason</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }
}
