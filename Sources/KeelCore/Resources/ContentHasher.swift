import Crypto

/// SHA-256 computed chunk by chunk, so content of any size is hashed without holding it in memory.
/// Spells the digest the way `ContentDigest` does: 64 lowercase hex digits.
public struct ContentHasher: Sendable {
    private var hasher = SHA256()
    /// Bytes fed so far.
    public private(set) var byteCount: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
        byteCount += Int64(bytes.count)
    }

    /// The digest of everything fed; the hasher is spent afterwards.
    public func finalize() -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in hasher.finalize() {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
