/// How many bytes a message's properties take on the wire.
///
/// AMQP 0-9-1 sends a message's properties in one content-header frame, which cannot be split, so a
/// publish whose headers do not fit the negotiated frame size cannot be sent at all; librabbitmq only
/// finds out after it has written the `basic.publish` method, leaving the connection unusable. The
/// client measures first and refuses such a publish with `.propertiesTooLarge`, the connection intact.
extension AMQPProperties {
    /// The content-header frame's payload size: class, weight, body size and flags, then each
    /// property present.
    public var encodedSize: Int {
        var size = 2 + 2 + 8 + 2
        for text in [
            contentType, contentEncoding, correlationID, replyTo, expiration, messageID, type, userID, appID,
        ] {
            if let text { size += 1 + text.utf8.count }
        }
        if !headers.isEmpty { size += Self.encodedSize(of: headers) }
        size += 1  // delivery mode
        if priority != nil { size += 1 }
        if timestamp != nil { size += 8 }
        return size
    }

    /// The bytes `table` takes as a field table.
    public static func encodedSize(of table: AMQPTable) -> Int {
        table.reduce(4) { size, entry in size + 1 + entry.key.utf8.count + 1 + encodedSize(of: entry.value) }
    }

    static func encodedSize(of value: AMQPFieldValue) -> Int {
        switch value {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float: return 4
        case .int64, .uint64, .double, .timestamp: return 8
        case .decimal: return 5
        case .string(let text): return 4 + text.utf8.count
        case .bytes(let bytes): return 4 + bytes.count
        case .array(let values): return values.reduce(4) { $0 + 1 + encodedSize(of: $1) }
        case .table(let table): return encodedSize(of: table)
        case .void: return 0
        }
    }
}
