import Foundation

extension URL {
    /// The URL for messages, without any user or password it may carry.
    var displayWithoutCredentials: String {
        guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false) else {
            return "the configured URL"
        }
        components.user = nil
        components.password = nil
        return components.string ?? "the configured URL"
    }
}
