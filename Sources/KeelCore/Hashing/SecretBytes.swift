import Foundation

/// What every token Keel issues needs: URL-safe text for random or signed bytes, and a comparison of
/// secrets that takes as long whatever it finds (API tokens, callback tokens).
public enum SecretBytes {
    /// Compares without stopping at the first difference, so timing does not tell how much matched.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// Base64url without padding (RFC 4648 §5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The bytes of base64url text, padded or not; nil when it is not base64url, or not the one
    /// spelling `base64URL` gives those bytes: the last character's unused bits must be zero, so no
    /// token has a second spelling that verifies (one changed character is always a different token).
    public static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let bytes = Data(base64Encoded: base64).map(Array.init) else { return nil }
        var unpadded = Substring(text)
        while unpadded.last == "=" { unpadded = unpadded.dropLast() }
        return base64URL(bytes) == unpadded ? bytes : nil
    }
}
