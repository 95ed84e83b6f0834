import Hummingbird

/// The frame around every page: title, a header with who is signed in, a navigation bar (approvals and the
/// console's pages) and a sign-out button, and the style sheet (plain CSS, no scripts; the
/// Content-Security-Policy forbids them anyway).
enum PageLayout {
    /// Who is signed in, for the header; nil on the sign-in page.
    struct Viewer {
        var name: String
        var role: String
        var csrf: String

        /// Whether the token's role is `admin`: it alone sees the record of operators' actions.
        var isAdmin: Bool { role == "admin" }
    }

    /// The navigation bar's entries, shown to a signed-in person: label and path.
    static let sections: [(label: String, path: String)] = [
        ("Approvals", "/approvals"), ("Runs", "/console/runs"), ("Flows", "/console/flows"),
        ("Dead letters", "/console/dead-letters"), ("Webhook deliveries", "/console/webhooks"),
    ]

    /// Entries shown after `sections` to admins only (other roles get a 403 page there).
    static let adminSections: [(label: String, path: String)] = [("Actions", "/console/actions")]

    /// - Parameter refresh: seconds after which the browser reloads the page (live status without
    ///   scripts); nil for none.
    /// - Parameter section: the navigation entry to mark current (a path from `sections`).
    static func response(
        status: HTTPResponse.Status = .ok, title: String, viewer: Viewer?, body: HTML, refresh: Int? = nil,
        section: String? = nil
    ) -> Response {
        let reload: HTML =
            refresh.map { seconds -> HTML in "<meta http-equiv=\"refresh\" content=\"\(seconds)\">\n" }
            ?? .empty
        let page: HTML = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            \(reload)<title>\(title) · Keel</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <a class="brand" href="/approvals">Keel</a>
            \(viewer.map(header) ?? .empty)
            </header>
            \(viewer.map { navigation(current: section, admin: $0.isAdmin) } ?? .empty)
            <main>
            \(body)
            </main>
            </body>
            </html>
            """
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                .xContentTypeOptions: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page.markup)))
    }

    /// A message box: `kind` is "error" or "notice".
    static func message(_ text: String, kind: String) -> HTML {
        "<p class=\"message \(kind)\" role=\"\(kind == "error" ? "alert" : "status")\">\(text)</p>"
    }

    /// A status word as a coloured badge (runs, steps, approvals): green done, red failed, amber waiting.
    static func status(_ status: String) -> HTML {
        "<span class=\"status status-\(status.replacingOccurrences(of: "_", with: "-"))\">\(status)</span>"
    }

    private static func navigation(current: String?, admin: Bool) -> HTML {
        let links = (sections + (admin ? adminSections : [])).map { section -> HTML in
            section.path == current
                ? "<a href=\"\(section.path)\" aria-current=\"page\">\(section.label)</a>"
                : "<a href=\"\(section.path)\">\(section.label)</a>"
        }
        return "<nav class=\"sections\">\(links)</nav>"
    }

    private static func header(_ viewer: Viewer) -> HTML {
        """
        <form class="sign-out" method="post" action="/sign-out">
        <span class="viewer">\(viewer.name) (\(viewer.role))</span>
        <input type="hidden" name="\(CSRFToken.field)" value="\(viewer.csrf)">
        <button type="submit">Sign out</button>
        </form>
        """
    }

    private static let style: HTML = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
        header { display: flex; justify-content: space-between; align-items: center; padding: .6rem 1.2rem;
                 background: #24292f; color: #fff; }
        header a.brand { color: #fff; font-weight: 600; text-decoration: none; }
        header .viewer { margin-right: .8rem; }
        main { max-width: 72rem; margin: 1.2rem auto; padding: 0 1.2rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
        .message { padding: .6rem .8rem; border-radius: 4px; }
        .message.error { background: #ffebe9; border: 1px solid #cf222e; }
        .message.notice { background: #dafbe1; border: 1px solid #1a7f37; }
        pre { background: #fff; border: 1px solid #ddd; padding: .6rem; overflow-x: auto; }
        pre.diff span { display: block; white-space: pre; min-height: 1.2em; }
        .diff-added { background: #e6ffec; color: #116329; }
        .diff-removed { background: #ffebe9; color: #82071e; }
        .diff-hunk { color: #0550ae; background: #ddf4ff; }
        .diff-file { font-weight: 600; }
        form.decision { margin: .8rem 0; padding: .8rem; background: #fff; border: 1px solid #ddd; }
        textarea { width: 100%; min-height: 4rem; }
        dl { display: grid; grid-template-columns: max-content auto; gap: .3rem 1rem; }
        dt { font-weight: 600; }
        figure.run-timeline { margin: .8rem 0; overflow-x: auto; }
        figure.run-timeline svg { max-width: 100%; height: auto; }
        nav.sections { display: flex; gap: 1.2rem; padding: .4rem 1.2rem; background: #eaeef2;
                       border-bottom: 1px solid #d0d7de; }
        nav.sections a { color: #0969da; text-decoration: none; }
        nav.sections a[aria-current="page"] { color: #1d1d1f; font-weight: 600; }
        .status { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .9em;
                  border: 1px solid #d0d7de; background: #f6f8fa; }
        .status-succeeded, .status-approved, .status-delivered, .status-done { background: #dafbe1;
                  border-color: #1a7f37; color: #116329; }
        .status-failed, .status-rejected, .status-timed-out, .status-forbidden { background: #ffebe9;
                  border-color: #cf222e; color: #82071e; }
        .status-waiting, .status-pending, .status-changes-requested, .status-refused { background: #fff8c5;
                  border-color: #bf8700; color: #7d4e00; }
        .status-running { background: #ddf4ff; border-color: #0969da; color: #0550ae; }
        .status-cancelled, .status-skipped { color: #57606a; }
        form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: .8rem 0;
                       padding: .8rem; background: #fff; border: 1px solid #ddd; }
        form.filters label { display: flex; flex-direction: column; font-size: .9em; }
        pre.json { white-space: pre-wrap; word-break: break-all; margin: .2rem 0; }
        td pre.json { border: 0; padding: 0; background: none; }
        .pager { margin: .8rem 0; }
        small, .muted { color: #57606a; }
        ol.attempts { margin: 0; padding-left: 1.2rem; }
        td.url, td.last-error { overflow-wrap: anywhere; }
        code.id { white-space: nowrap; }
        section.step { margin: 1rem 0; padding: .6rem .8rem; background: #fff; border: 1px solid #ddd; }
        """
}
