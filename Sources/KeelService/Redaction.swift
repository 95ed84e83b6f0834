import Foundation

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

extension Redaction {
    /// The text with every credential it can recognise masked: URL passwords, callback tokens
    /// (`kcb1.<key>.<claims>.<signature>`), API tokens (`keel_<16 hex>_<secret>`), and `secrets` (the
    /// values of the process's `KEEL_SECRET_*` settings, which `${{ secrets.X }}` reads).
    public static func redacting(_ text: String, secrets: [String] = []) -> String {
        var text = maskingURLPasswords(in: text)
        text = maskingTokens(in: text)
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: mask)
        }
        return text
    }

    /// Callback and API tokens masked wherever they appear (an error quoting a header, a URL's query).
    public static func maskingTokens(in text: String) -> String {
        guard text.contains("kcb1.") || text.contains("keel_") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "kcb1.") {
            result += rest[..<start.lowerBound] + mask
            rest = rest[start.upperBound...].drop { isTokenCharacter($0) }
        }
        result += rest
        return maskingAPITokens(in: result)
    }

    /// `keel_<16 hex>_<secret>` becomes `keel_<16 hex>_[REDACTED]`: the public id still says which token.
    static func maskingAPITokens(in text: String) -> String {
        guard text.contains("keel_") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "keel_") {
            result += rest[..<start.upperBound]
            rest = rest[start.upperBound...]
            let id = rest.prefix(16)
            guard id.count == 16, id.allSatisfy(\.isHexDigit), rest.dropFirst(16).first == "_" else {
                continue
            }
            let secret = rest.dropFirst(17).prefix { isTokenCharacter($0) && $0 != "." }
            guard !secret.isEmpty else { continue }
            result += id + "_" + mask
            rest = rest.dropFirst(17 + secret.count)
        }
        return result + rest
    }

    /// base64url and the token's separators.
    static func isTokenCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character))
    }

    /// The values to mask in every line: each `KEEL_SECRET_*` setting, and each line of a multi-line one
    /// (a private key), leaving out values too short to mask without garbling ordinary words.
    public static func secretValues(in environment: [String: String]) -> [String] {
        var values: Set<String> = []
        for (key, value) in environment where key.hasPrefix("KEEL_SECRET_") {
            for candidate in [value] + value.split(whereSeparator: \.isNewline).map(String.init)
            where candidate.trimmingCharacters(in: .whitespaces).count >= minimumSecretLength {
                values.insert(candidate)
            }
        }
        // Longest first, so a secret containing another is masked whole.
        return values.sorted { $0.count > $1.count }
    }

    /// Shorter secret values are not masked in logs (they would mask common words); the step executor
    /// still masks them in what steps store.
    public static let minimumSecretLength = 6
}
