public import Foundation

/// An AMQP field table: message headers and the `arguments` of declarations and bindings.
public typealias AMQPTable = [String: AMQPFieldValue]

/// One value in an AMQP field table, with RabbitMQ's type tags.
///
/// Literals pick the common type: integer literals are `.int64` (RabbitMQ's `l`), float literals
/// `.double`, string literals `.string`. Use an explicit case when a peer expects another width.
public enum AMQPFieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    /// Not understood by RabbitMQ itself; decoded when a peer sends it.
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    /// `value` × 10^-`scale`.
    case decimal(scale: UInt8, value: UInt32)
    case string(String)
    case bytes([UInt8])
    case array([AMQPFieldValue])
    /// Whole seconds since 1970; fractions are dropped on the wire.
    case timestamp(Date)
    case table(AMQPTable)
    case void
}

extension AMQPFieldValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension AMQPFieldValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int64(value) }
}

extension AMQPFieldValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension AMQPFieldValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension AMQPFieldValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: AMQPFieldValue...) { self = .array(elements) }
}

extension AMQPFieldValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        self = .table(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension AMQPFieldValue {
    /// The value as a string, when it is one (`.string`, or `.bytes` holding UTF-8).
    public var stringValue: String? {
        switch self {
        case .string(let value): value
        case .bytes(let value): String(validating: value, as: UTF8.self)
        default: nil
        }
    }

    /// The value as an integer, when it is an integer of any width that fits.
    public var intValue: Int? {
        switch self {
        case .int8(let value): Int(value)
        case .uint8(let value): Int(value)
        case .int16(let value): Int(value)
        case .uint16(let value): Int(value)
        case .int32(let value): Int(value)
        case .uint32(let value): Int(value)
        case .int64(let value): Int(exactly: value)
        case .uint64(let value): Int(exactly: value)
        default: nil
        }
    }

    /// The nested table, when the value is one.
    public var tableValue: AMQPTable? {
        if case .table(let value) = self { value } else { nil }
    }

    /// The nested array, when the value is one.
    public var arrayValue: [AMQPFieldValue]? {
        if case .array(let value) = self { value } else { nil }
    }
}
