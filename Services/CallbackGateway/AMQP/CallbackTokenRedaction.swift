import KeelCore

/// Removes callback tokens from bytes that may hold them (a dead-lettered message body).
///
/// A token can be spelled with JSON escapes (`"\u006bcb1.…"`, `kcb1\u002e…`, any character `\u`-escaped)
/// and still be a live token once decoded, so the bytes alone are not enough: a JSON body is also
/// checked string by string after decoding, and text that is not JSON after undoing JSON escapes.
enum CallbackTokenRedaction {
    static let replacement = "[redacted]"

    /// `bytes` with every `kcb1.…` token replaced; bytes that are not UTF-8 text are dropped entirely
    /// (what cannot be read cannot be checked for a token).
    ///
    /// Plainly written tokens are replaced in place, keeping the body as it was. Only when a token
    /// survives that (it was escaped) is a JSON body written out again from its redacted values.
    static func redact(_ bytes: [UInt8]) -> [UInt8] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return Array("[body dropped: not UTF-8 text]".utf8)
        }
        let inPlace = redactingPlainTokens(text)
        guard let document = try? JSONValue(parsing: text) else {
            // From the original: the in-place pass may have cut an escaped token's head off and left
            // its signature, which no pattern would find again.
            return Array(redacting(text).utf8)
        }
        let redacted = redactingStrings(document)
        guard redacted != document else { return Array(inPlace.utf8) }
        if let reread = try? JSONValue(parsing: inPlace), reread == redacted { return Array(inPlace.utf8) }
        return redacted.jsonBytes()
    }

    /// Every string (member names too) of `value` with its tokens replaced.
    static func redactingStrings(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(redacting(text))
        case .array(let elements):
            return .array(elements.map(redactingStrings))
        case .object(let object):
            return .object(JSONObject(object.map { (redacting($0.key), redactingStrings($0.value)) }))
        case .null, .bool, .number:
            return value
        }
    }

    /// `text` with its tokens replaced, also those spelled with JSON escapes (text holding JSON, or a
    /// body that is not valid JSON): when one only shows once escapes are undone, the unescaped text
    /// is what is kept.
    static func redacting(_ text: String) -> String {
        let plain = redactingPlainTokens(text)
        guard plain.contains("\\") else { return plain }
        let unescaped = JSONEscapes.undone(in: text)
        guard unescaped.firstMatch(of: token) != nil else { return plain }
        return redactingPlainTokens(unescaped)
    }

    private static func redactingPlainTokens(_ text: String) -> String {
        text.replacing(token, with: replacement)
    }

    /// `kcb1.<key>.<claims>.<signature>`, each part base64url. (A fresh literal each time: `Regex` is
    /// not Sendable, so one cannot be shared between the consumer's tasks.)
    private static var token: Regex<Substring> {
        #/kcb1\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*/#
    }
}
