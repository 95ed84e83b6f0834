import Foundation
import Hummingbird
import KeelStore

/// Runs, newest first, with the filter form (a plain GET form, so a filtered listing is a link people can
/// share) and a link to older runs. While a listed run is unfinished the page reloads itself every
/// `refreshSeconds` seconds: live status without scripts.
enum RunsPage {
    static let refreshSeconds = 10
    static let unfinished: Set<String> = ["pending", "running", "waiting"]

    static func response(
        _ runs: [RunSummary], query: RunsQuery, viewer: PageLayout.Viewer, now: Date
    ) -> Response {
        let problems = query.problems.map { PageLayout.message($0, kind: "error") }
        let live = runs.contains { unfinished.contains($0.status) }
        let body: HTML = """
            <h1>Runs</h1>
            \(form(query))
            \(problems)
            \(query.problems.isEmpty ? table(runs, query: query, now: now) : .empty)
            """
        return PageLayout.response(
            status: query.problems.isEmpty ? .ok : .badRequest, title: "Runs", viewer: viewer, body: body,
            refresh: live ? refreshSeconds : nil, section: ConsoleLinks.runs)
    }

    private static func form(_ query: RunsQuery) -> HTML {
        let options = ([""] + RunFilter.statuses).map { status -> HTML in
            let label = status.isEmpty ? "any" : status
            return status == query.status
                ? "<option value=\"\(status)\" selected>\(label)</option>"
                : "<option value=\"\(status)\">\(label)</option>"
        }
        return """
            <form class="filters" method="get" action="\(ConsoleLinks.runs)">
            <label>Flow <input id="filter-flow" name="flow" value="\(query.flow)"></label>
            <label>Status <select id="filter-status" name="status">\(options)</select></label>
            <label>Requester <input id="filter-requester" name="requester" value="\(query.requester)"></label>
            <label>Since <input id="filter-since" name="since" placeholder="YYYY-MM-DD" value="\(query.since)"></label>
            <label>Until <input id="filter-until" name="until" placeholder="YYYY-MM-DD" value="\(query.until)"></label>
            <label>Input contains <input id="filter-text" name="text" value="\(query.text)"></label>
            <button id="filter" type="submit">Filter</button>
            \(query.isFiltered ? "<a href=\"\(ConsoleLinks.runs)\">Clear</a>" as HTML : .empty)
            </form>
            """
    }

    private static func table(_ runs: [RunSummary], query: RunsQuery, now: Date) -> HTML {
        guard !runs.isEmpty else {
            return query.filter.before == nil
                ? "<p>No runs match.</p>" : "<p>No older runs match.</p>"
        }
        let rows = runs.map { run -> HTML in
            let finished: String =
                run.finishedAt.map { ConsoleFormat.duration(from: run.createdAt, to: $0) } ?? "—"
            return """
                <tr><td><a href="\(ConsoleLinks.run(run.id))"><code>\(ConsoleFormat.shortID(run.id))</code></a></td>\
                <td><a href="\(ConsoleLinks.flow(run.flow))">\(run.flow)</a> v\(run.version)</td>\
                <td>\(PageLayout.status(run.status))</td><td>\(run.requester ?? "—")</td><td>\(run.actor)</td>\
                <td>\(ConsoleFormat.time(run.createdAt)) <small>(\(ConsoleFormat.ago(run.createdAt, now: now)))</small></td>\
                <td>\(finished)</td></tr>

                """
        }
        let older: HTML =
            if runs.count >= query.filter.limit, let last = runs.last {
                """
                <p class="pager"><a id="older" href="\(ConsoleLinks.runs + ConsoleLinks.query(query.items + [("before", last.id.description)]))">Older runs</a></p>
                """
            } else {
                .empty
            }
        return """
            <table class="runs">
            <thead><tr><th>Run</th><th>Flow</th><th>Status</th><th>Requester</th><th>Actor</th><th>Created</th>\
            <th>Took</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            \(older)
            """
    }
}
