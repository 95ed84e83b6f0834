import Crypto
public import Foundation

/// What a callback token is bound to: one wait of one attempt of one step of one run, for one audience,
/// until it expires. The token is these claims signed with HMAC-SHA256; nothing of it is stored but
/// its `id`'s digest, so a leaked database does not leak live tokens.
public struct CallbackClaims: Sendable, Hashable, Codable {
    public var run: RunID
    public var step: String
    public var attempt: Int
    public var wait: String
    /// Who may present it: `callback-gateway`.
    public var audience: String
    /// Seconds since 1970.
    public var expires: Int64
    /// Random, unique per token: the once-only application is keyed by it.
    public var id: String

    public init(
        run: RunID, step: String, attempt: Int, wait: String, audience: String = CallbackToken.audience,
        expires: Int64, id: String = CallbackToken.randomID()
    ) {
        self.run = run
        self.step = step
        self.attempt = attempt
        self.wait = wait
        self.audience = audience
        self.expires = expires
        self.id = id
    }

    enum CodingKeys: String, CodingKey {
        case run, step, attempt, wait, id
        case audience = "aud"
        case expires = "exp"
    }
}

/// Mints and verifies callback tokens: `kcb1.<key id>.<base64url claims>.<base64url HMAC-SHA256>`.
public enum CallbackToken {
    public static let audience = "callback-gateway"
    static let prefix = "kcb1"

    public static func mint(_ claims: CallbackClaims, keys: CallbackKeyRing) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = SecretBytes.base64URL(Array((try? encoder.encode(claims)) ?? Data()))
        let signed = "\(prefix).\(keys.signingKeyID).\(body)"
        return signed + "."
            + SecretBytes.base64URL(signature(of: signed, key: keys.secret(keys.signingKeyID) ?? []))
    }

    /// The claims of a genuine, unexpired token for `audience`; throws what was wrong with it otherwise.
    public static func verify(
        _ token: String, keys: CallbackKeyRing, audience: String = CallbackToken.audience, now: Date = Date()
    ) throws(CallbackTokenError) -> CallbackClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == prefix, token.utf8.count <= 4096 else { throw .malformed }
        guard let secret = keys.secret(String(parts[1])) else { throw .forged }
        guard let presented = SecretBytes.decodeBase64URL(String(parts[3])) else { throw .malformed }
        let expected = signature(of: "\(parts[0]).\(parts[1]).\(parts[2])", key: secret)
        guard SecretBytes.constantTimeEqual(presented, expected) else { throw .forged }
        guard let body = SecretBytes.decodeBase64URL(String(parts[2])),
            let claims = try? JSONDecoder().decode(CallbackClaims.self, from: Data(body))
        else { throw .malformed }
        guard claims.audience == audience else { throw .wrongAudience }
        guard Int64(now.timeIntervalSince1970) < claims.expires else { throw .expired }
        return claims
    }

    /// 128 random bits, base64url.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return SecretBytes.base64URL((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func signature(of text: String, key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }
}

/// Why a callback token was refused. The gateway answers 401 for all but `expired` (410), and never says
/// more than the case's name.
public enum CallbackTokenError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed
    /// Unknown key, or a signature that does not match.
    case forged
    case wrongAudience
    case expired

    public var description: String {
        switch self {
        case .malformed: "the callback token is malformed"
        case .forged: "the callback token's signature is not valid"
        case .wrongAudience: "the callback token is not for this service"
        case .expired: "the callback token has expired"
        }
    }
}
