import Hummingbird

/// The frame around every page: title, a header with who is signed in and a sign-out button, and the
/// style sheet (plain CSS, no scripts; the Content-Security-Policy forbids them anyway).
enum PageLayout {
    /// Who is signed in, for the header; nil on the sign-in page.
    struct Viewer {
        var name: String
        var role: String
        var csrf: String
    }

    static func response(
        status: HTTPResponse.Status = .ok, title: String, viewer: Viewer?, body: HTML
    ) -> Response {
        let page: HTML = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Keel approvals</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <a class="brand" href="/approvals">Keel approvals</a>
            \(viewer.map(header) ?? .empty)
            </header>
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
        """
}
