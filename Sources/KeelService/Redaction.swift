/// Keeps secrets out of logs: values under secret-looking keys are replaced, and passwords inside
/// connection URLs are masked wherever a URL appears in a value.
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "[REDACTED]"

    /// Metadata keys whose values are never written.
    static let secretKeyFragments = [
        "password", "passwd", "secret", "token", "authorization", "cookie", "private_key", "api_key",
    ]

    /// Whether a metadata key names a secret (`db_password`, `Authorization`, `callback_token`, ...).
    public static func isSecretKey(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return secretKeyFragments.contains { lowered.contains($0) }
    }

    /// The text with the password of every `scheme://user:password@host` URL masked.
    public static func maskingURLPasswords(in text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace; its userinfo before the last '@'.
            let authorityEnd =
                rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0.isWhitespace }
                ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"),
                let colon = authority[..<at].firstIndex(of: ":")
            {
                result += authority[...colon] + mask + authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }
}
