public import Foundation

/// A `jsonb` value: raw UTF-8 JSON text, with helpers to encode and decode `Codable` values.
///
/// The server normalises `jsonb` (key order, whitespace), so compare decoded values, not bytes.
public struct PGJSON: Hashable, Sendable {
    /// The JSON text as UTF-8.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Wraps JSON text as is; the server validates it when the value is bound.
    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    /// Encodes a value as JSON.
    public init<Value: Encodable>(encoding value: Value, encoder: JSONEncoder = JSONEncoder()) throws {
        self.bytes = Array(try encoder.encode(value))
    }

    /// Decodes the JSON into a value; throws the decoder's error when the shape does not match.
    public func decode<Value: Decodable>(
        _ type: Value.Type = Value.self, decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        try decoder.decode(type, from: Data(bytes))
    }

    /// The JSON text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension PGJSON: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .jsonb }
    public static var pgArrayType: PGType { .jsonbArray }

    /// Version of the `jsonb` binary format: a single byte before the JSON text.
    static let jsonbVersion: UInt8 = 1

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.append(Self.jsonbVersion)
        buffer.append(contentsOf: bytes)
    }

    /// Reads `jsonb`, `json` and text columns.
    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        switch pgValue.type {
        case .jsonb:
            guard bytes.first == Self.jsonbVersion else {
                throw PGError.decoding("unsupported jsonb binary format version")
            }
            self.init(bytes: Array(bytes.dropFirst()))
        case .json, .text, .varchar:
            self.init(bytes: Array(bytes))
        default:
            throw pgValue.typeMismatch(Self.self)
        }
    }
}
