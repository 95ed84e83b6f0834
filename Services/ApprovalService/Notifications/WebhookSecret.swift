import Crypto
import Foundation

/// The key webhooks are signed with, from `KEEL_WEBHOOK_SECRET` in Standard Webhooks' `whsec_<base64>`
/// form. It never reaches a log, an error, the database or a problem body: every textual form of this
/// value is redacted, and a malformed secret's error says what is wrong with it without repeating it.
struct WebhookSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let key: SymmetricKey

    static let prefix = "whsec_"
    /// Standard Webhooks asks for 24 to 64 random bytes; fewer is refused.
    static let minimumBytes = 24

    /// Why a secret is refused, without its value.
    enum Problem: Error, CustomStringConvertible {
        case missingPrefix
        case notBase64
        case tooShort(Int)

        var description: String {
            switch self {
            case .missingPrefix: "expected whsec_ followed by base64"
            case .notBase64: "the part after whsec_ is not base64"
            case .tooShort(let count):
                "expected at least \(WebhookSecret.minimumBytes) bytes after base64 decoding; got \(count)"
            }
        }
    }

    init(parsing text: String) throws(Problem) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else { throw .missingPrefix }
        guard let bytes = Data(base64Encoded: String(trimmed.dropFirst(Self.prefix.count))) else {
            throw .notBase64
        }
        guard bytes.count >= Self.minimumBytes else { throw .tooShort(bytes.count) }
        key = SymmetricKey(data: bytes)
    }

    var description: String { "whsec_[REDACTED]" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [:]) }
}
