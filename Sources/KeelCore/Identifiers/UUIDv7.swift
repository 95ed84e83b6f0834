import Foundation

/// RFC 9562 version 7 UUIDs: a millisecond timestamp then random bits, so run ids sort by creation
/// time and index well. Runs get theirs through `RunID.make`.
enum UUIDv7 {
    static func make(millisecondsSinceEpoch: Int64, using generator: inout some RandomNumberGenerator) -> UUID
    {
        var bytes = [UInt8](repeating: 0, count: 16)
        let milliseconds = UInt64(max(0, millisecondsSinceEpoch)) & 0xFFFF_FFFF_FFFF
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        for index in 6..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
