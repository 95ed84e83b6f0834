/// One column value as received from the server, in PostgreSQL's binary format; `bytes` is nil for NULL.
///
/// `PGDecodable` types build themselves from it; most code uses `PGRow.decode` instead.
public struct PGValue: Sendable {
    public var type: PGType
    public var bytes: ArraySlice<UInt8>?

    public init(type: PGType, bytes: ArraySlice<UInt8>?) {
        self.type = type
        self.bytes = bytes
    }

    /// The bytes of a non-NULL value, or a decoding error naming the Swift type that needed one.
    public func requireBytes<T>(for swiftType: T.Type) throws -> ArraySlice<UInt8> {
        guard let bytes else {
            throw PGError.decoding("cannot decode NULL as \(swiftType); decode an Optional instead")
        }
        return bytes
    }

    /// A decoding error for a column type the Swift type does not accept.
    public func typeMismatch<T>(_ swiftType: T.Type) -> PGError {
        PGError.decoding("cannot decode a \(type) value as \(swiftType)")
    }
}

// Big-endian integer reading and writing for the binary wire format.
extension ArraySlice<UInt8> {
    func readInteger<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int = 0) throws -> T {
        let start = startIndex + offset
        guard offset >= 0, start + MemoryLayout<T>.size <= endIndex else {
            throw PGError.decoding("truncated \(T.self) in binary value")
        }
        var value: T = 0
        for index in start..<(start + MemoryLayout<T>.size) {
            value = (value << 8) | T(truncatingIfNeeded: self[index])
        }
        return value
    }
}

extension [UInt8] {
    mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }
}
