// One-dimensional PostgreSQL arrays (`text[]`, `int8[]`, `uuid[]`, ...) as Swift arrays, and Optional
// as NULL, both as parameters and as column values.

extension Array: PGEncodable where Element: PGArrayElement {
    public static var pgType: PGType { Element.pgArrayType }

    public func pgEncode(into buffer: inout [UInt8]) {
        Element.pgEncodeArray(self, into: &buffer)
    }
}

extension Array: PGDecodable where Element: PGArrayElement {
    public init(pgValue: PGValue) throws {
        self = try Element.pgDecodeArray(pgValue)
    }
}

extension PGArrayElement where Self: PGEncodable & PGDecodable {
    /// The binary array format: dimensions, a has-NULLs flag, the element type, each dimension's
    /// length and lower bound, then every element prefixed with its length (-1 for NULL).
    public static func pgEncodeArray(_ elements: [Self], into buffer: inout [UInt8]) {
        buffer.appendInteger(Int32(elements.isEmpty ? 0 : 1))
        buffer.appendInteger(Int32(elements.contains { $0.pgIsNull } ? 1 : 0))
        buffer.appendInteger(Self.pgType.oid)
        guard !elements.isEmpty else { return }
        buffer.appendInteger(Int32(elements.count))
        buffer.appendInteger(Int32(1))
        for element in elements {
            if element.pgIsNull {
                buffer.appendInteger(Int32(-1))
                continue
            }
            let lengthAt = buffer.count
            buffer.appendInteger(Int32(0))
            element.pgEncode(into: &buffer)
            let length = UInt32(buffer.count - lengthAt - 4)
            for shift in 0..<4 {
                buffer[lengthAt + shift] = UInt8(truncatingIfNeeded: length >> (24 - 8 * shift))
            }
        }
    }

    public static func pgDecodeArray(_ value: PGValue) throws -> [Self] {
        let bytes = try value.requireBytes(for: [Self].self)
        let dimensions = try bytes.readInteger(Int32.self)
        let elementType = PGType(oid: try bytes.readInteger(UInt32.self, at: 8))
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PGError.decoding("cannot decode a \(dimensions)-dimensional array as [\(Self.self)]")
        }
        let count = Int(try bytes.readInteger(Int32.self, at: 12))
        // Every element takes at least its 4-byte length, so a larger count is corrupt data, not a
        // reason to reserve gigabytes (or to trap on a negative range).
        guard count >= 0, count <= (bytes.count - 20) / 4 else {
            throw PGError.decoding("invalid element count \(count) in \(value.type) value")
        }
        var offset = 20
        var elements: [Self] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try bytes.readInteger(Int32.self, at: offset))
            offset += 4
            if length < 0 {
                elements.append(try Self(pgValue: PGValue(type: elementType, bytes: nil)))
                continue
            }
            let start = bytes.startIndex + offset
            guard start + length <= bytes.endIndex else {
                throw PGError.decoding("truncated array element in \(value.type) value")
            }
            elements.append(
                try Self(pgValue: PGValue(type: elementType, bytes: bytes[start..<(start + length)])))
            offset += length
        }
        return elements
    }
}

extension Optional: PGEncodable where Wrapped: PGEncodable {
    public static var pgType: PGType { Wrapped.pgType }

    public var pgIsNull: Bool {
        switch self {
        case .none: true
        case .some(let wrapped): wrapped.pgIsNull
        }
    }

    public func pgEncode(into buffer: inout [UInt8]) {
        if case .some(let wrapped) = self { wrapped.pgEncode(into: &buffer) }
    }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public init(pgValue: PGValue) throws {
        self = pgValue.bytes == nil ? .none : .some(try Wrapped(pgValue: pgValue))
    }
}

/// Arrays with NULL elements, e.g. `[String?]`.
extension Optional: PGArrayElement where Wrapped: PGArrayElement & PGEncodable & PGDecodable {
    public static var pgArrayType: PGType { Wrapped.pgArrayType }
}
