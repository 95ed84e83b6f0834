// Binary encodings of the integer, floating-point, boolean and text types.

extension Int64: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .int8 }
    public static var pgArrayType: PGType { .int8Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(self)
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        switch pgValue.type {
        case .int8: self = try bytes.readInteger(Int64.self)
        case .int4: self = Int64(try bytes.readInteger(Int32.self))
        case .int2: self = Int64(try bytes.readInteger(Int16.self))
        case .objectIdentifier: self = Int64(try bytes.readInteger(UInt32.self))
        default: throw pgValue.typeMismatch(Self.self)
        }
    }
}

extension Int: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .int8 }
    public static var pgArrayType: PGType { .int8Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(Int64(self))
    }

    public init(pgValue: PGValue) throws {
        self = Int(try Int64(pgValue: pgValue))
    }
}

extension Int32: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .int4 }
    public static var pgArrayType: PGType { .int4Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(self)
    }

    public init(pgValue: PGValue) throws {
        let wide = try Int64(pgValue: pgValue)
        guard let value = Int32(exactly: wide) else {
            throw PGError.decoding("\(pgValue.type) value out of range for Int32")
        }
        self = value
    }
}

extension Int16: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .int2 }
    public static var pgArrayType: PGType { .int2Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(self)
    }

    public init(pgValue: PGValue) throws {
        let wide = try Int64(pgValue: pgValue)
        guard let value = Int16(exactly: wide) else {
            throw PGError.decoding("\(pgValue.type) value out of range for Int16")
        }
        self = value
    }
}

extension Bool: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .bool }
    public static var pgArrayType: PGType { .boolArray }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.append(self ? 1 : 0)
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        guard pgValue.type == .bool, bytes.count == 1 else { throw pgValue.typeMismatch(Self.self) }
        self = bytes.first != 0
    }
}

extension Double: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .float8 }
    public static var pgArrayType: PGType { .float8Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(bitPattern)
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        switch pgValue.type {
        case .float8: self = Double(bitPattern: try bytes.readInteger(UInt64.self))
        case .float4: self = Double(Float(bitPattern: try bytes.readInteger(UInt32.self)))
        default: throw pgValue.typeMismatch(Self.self)
        }
    }
}

extension Float: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .float4 }
    public static var pgArrayType: PGType { .float4Array }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.appendInteger(bitPattern)
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        switch pgValue.type {
        case .float4: self = Float(bitPattern: try bytes.readInteger(UInt32.self))
        case .float8: self = Float(Double(bitPattern: try bytes.readInteger(UInt64.self)))
        default: throw pgValue.typeMismatch(Self.self)
        }
    }
}

extension String: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .text }
    public static var pgArrayType: PGType { .textArray }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: utf8)
    }

    /// Reads the text types (`text`, `varchar`, `char(n)`, `name`) and `json`/`jsonb` as their JSON text.
    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        switch pgValue.type {
        case .text, .varchar, .bpchar, .name, .unknown, .char, .json:
            self = String(decoding: bytes, as: UTF8.self)
        case .jsonb:
            self = String(decoding: try PGJSON(pgValue: pgValue).bytes, as: UTF8.self)
        default:
            throw pgValue.typeMismatch(Self.self)
        }
    }
}

/// `[UInt8]` is `bytea`, not an array of bytes.
extension UInt8: PGArrayElement {
    public static var pgArrayType: PGType { .bytea }

    public static func pgEncodeArray(_ elements: [UInt8], into buffer: inout [UInt8]) {
        buffer.append(contentsOf: elements)
    }

    public static func pgDecodeArray(_ value: PGValue) throws -> [UInt8] {
        let bytes = try value.requireBytes(for: [UInt8].self)
        guard value.type == .bytea else { throw value.typeMismatch([UInt8].self) }
        return Array(bytes)
    }
}
