/// A problem with the `KEEL_SSH_HOSTS` setting or with one host of it, naming the host and the field
/// (never a key or a secret's value).
struct SSHHostsError: Error, Sendable, Hashable, CustomStringConvertible {
    var host: String?
    var field: String?
    var message: String

    var description: String {
        var text = "KEEL_SSH_HOSTS"
        if let host { text += ": host '\(host)'" }
        if let field { text += ": \(field)" }
        return "\(text): \(message)"
    }
}
