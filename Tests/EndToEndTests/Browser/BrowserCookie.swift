/// A cookie as the browser stores it, with the flags a test checks.
struct BrowserCookie: Sendable, Hashable {
    var name: String
    var value: String
    var domain: String
    var path: String
    var httpOnly: Bool
    var secure: Bool
    /// "Strict", "Lax" or "None"; nil when the server set no SameSite attribute.
    var sameSite: String?
}
