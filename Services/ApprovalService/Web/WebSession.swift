import Hummingbird
import KeelStore

/// A signed-in browser: the token from its session cookie, who it stands for, and its CSRF token.
struct WebSession: Sendable {
    let token: String
    let principal: APITokenRecord

    var csrf: String { CSRFToken.make(session: token) }

    var viewer: PageLayout.Viewer {
        PageLayout.Viewer(name: principal.name, role: principal.role.rawValue, csrf: csrf)
    }

    /// Whether a form post is this session's own: its CSRF field matches and its origin, if stated, is
    /// this service.
    func accepts(_ request: Request, csrf candidate: String?, https: Bool) -> Bool {
        OriginCheck.allows(request, https: https) && CSRFToken.isValid(candidate, session: token)
    }
}

extension ApprovalWeb {
    /// The request's session, when its cookie holds a token that is valid (not revoked) now.
    func signedInSession(_ request: Request) async throws -> WebSession? {
        guard let token = SessionCookie.token(in: request),
            let principal = try await tokens.authenticate(token)
        else { return nil }
        return WebSession(token: token, principal: principal)
    }

    /// Where a browser without a valid session goes.
    static var toSignIn: Response {
        Response(status: .seeOther, headers: [.location: "/sign-in"])
    }

    /// The answer to a form post that is not the session's own.
    static var forgedForm: Response {
        PageLayout.response(
            status: .forbidden, title: "Refused", viewer: nil,
            body: """
                <h1>Refused</h1>
                \(PageLayout.message("This form was not sent from this service's own page, so it was refused. Reload the page and try again.", kind: "error"))
                <p><a href="/approvals">Pending approvals</a></p>
                """)
    }
}
