import Foundation

/// The executor's own credentials, as a step could print them: masked in everything a step stores
/// (streams, outputs, messages) even though no step is ever given them, in case one finds a way to them.
///
/// The callback keys (each key of `KEEL_CALLBACK_KEYS` and the whole setting) and the passwords of
/// `KEEL_DATABASE_URL` and `KEEL_AMQP_URL` (as written and percent-decoded). Values shorter than
/// `minimumLength` are left out: the local stack's password `keel` would otherwise be masked in every
/// path and message that names Keel, and a password that short protects nothing (docs/security.md).
enum ExecutorCredentials {
    static let minimumLength = 6

    static func values(in environment: [String: String]) -> [String] {
        allValues(in: environment).filter { $0.count >= minimumLength }
    }

    private static func allValues(in environment: [String: String]) -> [String] {
        var values: [String] = []
        if let keys = environment["KEEL_CALLBACK_KEYS"], !keys.isEmpty {
            values.append(keys)
            for entry in keys.split(separator: ",") {
                let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
                if parts.count == 2 { values.append(String(parts[1])) }
            }
        }
        for setting in ["KEEL_DATABASE_URL", "KEEL_AMQP_URL"] {
            guard let url = environment[setting], let password = password(in: url) else { continue }
            values.append(password)
            if let decoded = password.removingPercentEncoding { values.append(decoded) }
        }
        return values
    }

    /// The password of `scheme://user:password@host...`, as written; nil when there is none.
    static func password(in url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return nil
        }
        let password = authority[authority.index(after: colon)..<at]
        return password.isEmpty ? nil : String(password)
    }
}
