import Foundation
import Hummingbird

/// The session cookie: the API token itself (so signing out of every browser is revoking the token),
/// HttpOnly (page scripts cannot read it), SameSite=Strict (other sites' requests never carry it), and
/// Secure when the page is served over https.
enum SessionCookie {
    static let name = "keel_session"

    /// The cookie that signs `token` in.
    static func signIn(_ token: String, secure: Bool) -> Cookie {
        Cookie(name: name, value: token, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// The cookie that signs out: empty and already expired.
    static func signOut(secure: Bool) -> Cookie {
        Cookie(
            name: name, value: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
            secure: secure,
            httpOnly: true, sameSite: .strict)
    }

    /// Whether `token` can be a cookie value as it is (RFC 6265 cookie-octets; API tokens always can).
    static func isStorable(_ token: String) -> Bool {
        token.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x21, 0x23...0x2B, 0x2D...0x3A, 0x3C...0x5B, 0x5D...0x7E: true
            default: false
            }
        }
    }

    /// The token a request carries, if any.
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
