/// A Swift value that can be bound as a query parameter, sent in PostgreSQL's binary format.
///
/// Conform your own types to bind them directly (e.g. an identifier wrapper encoding as `.uuid`).
public protocol PGEncodable: Sendable {
    /// The type the server receives the value as; it drives operator and column type resolution.
    static var pgType: PGType { get }
    /// True when the value is SQL NULL (only `Optional.none` by default).
    var pgIsNull: Bool { get }
    /// Appends the binary representation. Not called for NULL values.
    func pgEncode(into buffer: inout [UInt8])
}

extension PGEncodable {
    public var pgIsNull: Bool { false }
}

/// A Swift value that can be read from a result column.
public protocol PGDecodable: Sendable {
    /// Builds the value from a column; throws `PGError(.decoding)` for an unsupported type or NULL.
    init(pgValue: PGValue) throws
}

/// A type that can be an element of a PostgreSQL array, so `[Element]` binds and decodes as an array.
///
/// `UInt8` is special: `[UInt8]` is `bytea`, the usual Swift spelling of binary data.
public protocol PGArrayElement: Sendable {
    /// The array type, e.g. `.textArray` for `String`.
    static var pgArrayType: PGType { get }
    static func pgEncodeArray(_ elements: [Self], into buffer: inout [UInt8])
    static func pgDecodeArray(_ value: PGValue) throws -> [Self]
}
