import Hummingbird

/// The sign-in form: one field for an API token (`keel token create` prints it once).
enum SignInPage {
    static func response(status: HTTPResponse.Status = .ok, error: String? = nil, notice: String? = nil)
        -> Response
    {
        let body: HTML = """
            <h1>Sign in</h1>
            \(error.map { PageLayout.message($0, kind: "error") } ?? .empty)
            \(notice.map { PageLayout.message($0, kind: "notice") } ?? .empty)
            <form method="post" action="/sign-in">
            <p><label for="token">API token</label><br>
            <input id="token" name="token" type="password" autocomplete="off" size="60" required></p>
            <p><button id="sign-in" type="submit">Sign in</button></p>
            </form>
            <p>Ask an admin for a token: <code>keel token create --name NAME --role approver</code>.</p>
            """
        return PageLayout.response(status: status, title: "Sign in", viewer: nil, body: body)
    }
}
