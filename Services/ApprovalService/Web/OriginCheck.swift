import HTTPTypes
import Hummingbird

/// Refuses a form post another site made the browser send: when the request has an `Origin` header it
/// must be this service as the browser reached it (`http[s]://<Host>`). Browsers send `Origin` on every
/// POST they make today; requests without one (old browsers, curl) fall back on the CSRF token alone.
enum OriginCheck {
    /// Whether the request's origin, if it states one, is this service.
    static func allows(_ request: Request, https: Bool) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "\(https ? "https" : "http")://\(host)"
    }
}
