import Foundation
import Hummingbird
import KeelStore

/// Signing in with an API token, and out again.
extension ApprovalWeb {
    struct SignInForm: Decodable {
        var token: String?
    }

    struct SignOutForm: Decodable {
        var csrf: String?
    }

    /// Checks the token; a good one becomes the session cookie, a wrong one gets the form again (401).
    func signIn(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard OriginCheck.allows(request, https: https) else { return Self.forgedForm }
        let form = try? await URLEncodedFormDecoder().decode(SignInForm.self, from: request, context: context)
        let token = (form?.token ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, SessionCookie.isStorable(token), try await tokens.authenticate(token) != nil
        else {
            return SignInPage.response(
                status: .unauthorized, error: "That token is not valid: it is mistyped, revoked or unknown.")
        }
        var response = Response(status: .seeOther, headers: [.location: "/approvals"])
        response.setCookie(SessionCookie.signIn(token, secure: https))
        return response
    }

    /// Clears the session cookie. Needs the session's CSRF token, so no other site can sign a person out.
    func signOut(_ request: Request, context: BasicRequestContext) async throws -> Response {
        if let session = try await signedInSession(request) {
            let form = try? await URLEncodedFormDecoder().decode(
                SignOutForm.self, from: request, context: context)
            guard session.accepts(request, csrf: form?.csrf, https: https) else { return Self.forgedForm }
        }
        var response = Response(status: .seeOther, headers: [.location: "/sign-in"])
        response.setCookie(SessionCookie.signOut(secure: https))
        return response
    }
}
