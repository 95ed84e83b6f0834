import Crypto
import Foundation

/// The anti-forgery token every form of the page carries: HMAC-SHA256 of a fixed label, keyed by the
/// session token. Another site can make a browser send the session cookie, but cannot read it, so it
/// cannot compute this value; the server needs no state to check it.
enum CSRFToken {
    /// The form field that carries it.
    static let field = "csrf"
    private static let label = Data("keel approvals web form".utf8)

    /// The token for forms of the session `sessionToken`, as lowercase hex.
    static func make(session sessionToken: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: label, using: key(sessionToken))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `candidate` is the session's token; the comparison takes the same time wherever they differ.
    static func isValid(_ candidate: String?, session sessionToken: String) -> Bool {
        guard let candidate, let code = bytes(hex: candidate) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: label, using: key(sessionToken))
    }

    private static func key(_ sessionToken: String) -> SymmetricKey {
        SymmetricKey(data: Data(sessionToken.utf8))
    }

    /// Decodes lowercase or uppercase hex; nil for anything else (odd length, other characters).
    private static func bytes(hex: String) -> Data? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
