import CRabbitMQ
import Foundation

/// Copies librabbitmq's decoded C structures into Swift values before the I/O thread releases the
/// frame buffers they point into.
enum CDecoder {
    static func string(_ bytes: amqp_bytes_t) -> String {
        guard let base = bytes.bytes, bytes.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }

    static func array(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard let base = bytes.bytes, bytes.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }

    static func table(_ table: amqp_table_t) -> AMQPTable {
        guard let entries = table.entries, table.num_entries > 0 else { return [:] }
        var result = AMQPTable(minimumCapacity: Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[string(entry.key)] = field(entry.value)
        }
        return result
    }

    static func field(_ value: amqp_field_value_t) -> AMQPFieldValue {
        switch amqp_field_value_kind_t(rawValue: UInt32(value.kind)) {
        case AMQP_FIELD_KIND_BOOLEAN: .bool(value.value.boolean != 0)
        case AMQP_FIELD_KIND_I8: .int8(value.value.i8)
        case AMQP_FIELD_KIND_U8: .uint8(value.value.u8)
        case AMQP_FIELD_KIND_I16: .int16(value.value.i16)
        case AMQP_FIELD_KIND_U16: .uint16(value.value.u16)
        case AMQP_FIELD_KIND_I32: .int32(value.value.i32)
        case AMQP_FIELD_KIND_U32: .uint32(value.value.u32)
        case AMQP_FIELD_KIND_I64: .int64(value.value.i64)
        case AMQP_FIELD_KIND_U64: .uint64(value.value.u64)
        case AMQP_FIELD_KIND_F32: .float(value.value.f32)
        case AMQP_FIELD_KIND_F64: .double(value.value.f64)
        case AMQP_FIELD_KIND_DECIMAL:
            .decimal(scale: value.value.decimal.decimals, value: value.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8: .string(string(value.value.bytes))
        case AMQP_FIELD_KIND_BYTES: .bytes(array(value.value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP:
            .timestamp(Date(timeIntervalSince1970: TimeInterval(value.value.u64)))
        case AMQP_FIELD_KIND_TABLE: .table(table(value.value.table))
        case AMQP_FIELD_KIND_ARRAY: .array(array(value.value.array))
        default: .void
        }
    }

    private static func array(_ array: amqp_array_t) -> [AMQPFieldValue] {
        guard let entries = array.entries, array.num_entries > 0 else { return [] }
        return (0..<Int(array.num_entries)).map { field(entries[$0]) }
    }

    static func properties(_ p: amqp_basic_properties_t) -> AMQPProperties {
        let flags = p._flags
        func text(_ flag: amqp_flags_t, _ bytes: amqp_bytes_t) -> String? {
            flags & flag != 0 ? string(bytes) : nil
        }
        return AMQPProperties(
            contentType: text(BasicFlag.contentType, p.content_type),
            contentEncoding: text(BasicFlag.contentEncoding, p.content_encoding),
            headers: flags & BasicFlag.headers != 0 ? table(p.headers) : [:],
            deliveryMode: flags & BasicFlag.deliveryMode != 0 && p.delivery_mode == 2
                ? .persistent : .transient,
            priority: flags & BasicFlag.priority != 0 ? p.priority : nil,
            correlationID: text(BasicFlag.correlationID, p.correlation_id),
            replyTo: text(BasicFlag.replyTo, p.reply_to),
            expiration: text(BasicFlag.expiration, p.expiration),
            messageID: text(BasicFlag.messageID, p.message_id),
            timestamp: flags & BasicFlag.timestamp != 0
                ? Date(timeIntervalSince1970: TimeInterval(p.timestamp)) : nil,
            type: text(BasicFlag.type, p.type),
            userID: text(BasicFlag.userID, p.user_id),
            appID: text(BasicFlag.appID, p.app_id))
    }
}
