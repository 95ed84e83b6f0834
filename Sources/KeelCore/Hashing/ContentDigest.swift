import Crypto

/// The SHA-256 that identifies content in Keel: flow versions (of their canonical form), migration files,
/// resources. One function, so every identity is spelled the same way: 64 lowercase hex digits.
public enum ContentDigest {
    public static func sha256Hex(of bytes: some Sequence<UInt8>) -> String {
        let digest = SHA256.hash(data: Array(bytes))
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
