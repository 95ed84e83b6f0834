/// RFC 9562 version 7 UUIDs: a millisecond timestamp then random bits, so run ids sort by creation
/// time and index well.
public enum UUIDv7 {
    /// Lower-case text form, e.g. `0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b`.
    public static func make(millisecondsSinceEpoch: Int64, using generator: inout some RandomNumberGenerator)
        -> String
    {
        var bytes = [UInt8](repeating: 0, count: 16)
        let milliseconds = UInt64(max(0, millisecondsSinceEpoch)) & 0xFFFF_FFFF_FFFF
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        for index in 6..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10
        let hex = bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(
            separator: "-")
    }
}
