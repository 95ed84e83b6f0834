import CRabbitMQ
import Foundation

/// Builds librabbitmq's C structures (strings, tables, properties) from Swift values.
///
/// Everything is allocated in one librabbitmq pool that the I/O thread recycles after each command, so
/// the structures live exactly as long as the C call that reads them. Used only on the I/O thread.
final class CEncoder {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init() {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, 4096)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Frees everything built since the last reset; earlier results must no longer be used.
    func reset() {
        recycle_amqp_pool(pool)
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { bytes($0) }
    }

    private func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard let base = buffer.baseAddress, buffer.count > 0,
            let memory = amqp_pool_alloc(pool, buffer.count)
        else {
            return amqp_bytes_t(len: 0, bytes: nil)
        }
        memory.copyMemory(from: base, byteCount: buffer.count)
        return amqp_bytes_t(len: buffer.count, bytes: memory)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty,
            let memory = amqp_pool_alloc(pool, MemoryLayout<amqp_table_entry_t>.stride * table.count)
        else {
            return amqp_table_t(num_entries: 0, entries: nil)
        }
        let entries = memory.bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, (key, value)) in table.enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: field(value)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    private func array(_ values: [AMQPFieldValue]) -> amqp_array_t {
        guard !values.isEmpty,
            let memory = amqp_pool_alloc(pool, MemoryLayout<amqp_field_value_t>.stride * values.count)
        else {
            return amqp_array_t(num_entries: 0, entries: nil)
        }
        let entries = memory.bindMemory(to: amqp_field_value_t.self, capacity: values.count)
        for (index, value) in values.enumerated() {
            (entries + index).initialize(to: field(value))
        }
        return amqp_array_t(num_entries: Int32(values.count), entries: entries)
    }

    private func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var result = amqp_field_value_t()
        func kind(_ kind: amqp_field_value_kind_t) { result.kind = UInt8(kind.rawValue) }
        switch value {
        case .bool(let v):
            kind(AMQP_FIELD_KIND_BOOLEAN)
            result.value.boolean = v ? 1 : 0
        case .int8(let v):
            kind(AMQP_FIELD_KIND_I8)
            result.value.i8 = v
        case .uint8(let v):
            kind(AMQP_FIELD_KIND_U8)
            result.value.u8 = v
        case .int16(let v):
            kind(AMQP_FIELD_KIND_I16)
            result.value.i16 = v
        case .uint16(let v):
            kind(AMQP_FIELD_KIND_U16)
            result.value.u16 = v
        case .int32(let v):
            kind(AMQP_FIELD_KIND_I32)
            result.value.i32 = v
        case .uint32(let v):
            kind(AMQP_FIELD_KIND_U32)
            result.value.u32 = v
        case .int64(let v):
            kind(AMQP_FIELD_KIND_I64)
            result.value.i64 = v
        case .uint64(let v):
            kind(AMQP_FIELD_KIND_U64)
            result.value.u64 = v
        case .float(let v):
            kind(AMQP_FIELD_KIND_F32)
            result.value.f32 = v
        case .double(let v):
            kind(AMQP_FIELD_KIND_F64)
            result.value.f64 = v
        case .decimal(let scale, let v):
            kind(AMQP_FIELD_KIND_DECIMAL)
            result.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let v):
            kind(AMQP_FIELD_KIND_UTF8)
            result.value.bytes = bytes(v)
        case .bytes(let v):
            kind(AMQP_FIELD_KIND_BYTES)
            result.value.bytes = bytes(v)
        case .array(let v):
            kind(AMQP_FIELD_KIND_ARRAY)
            result.value.array = array(v)
        case .timestamp(let v):
            kind(AMQP_FIELD_KIND_TIMESTAMP)
            result.value.u64 = UInt64(max(0, v.timeIntervalSince1970.rounded(.down)))
        case .table(let v):
            kind(AMQP_FIELD_KIND_TABLE)
            result.value.table = table(v)
        case .void:
            kind(AMQP_FIELD_KIND_VOID)
        }
        return result
    }

    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var result = amqp_basic_properties_t()
        var flags: amqp_flags_t = BasicFlag.deliveryMode
        result.delivery_mode = properties.deliveryMode.rawValue
        func set(
            _ value: String?, _ flag: amqp_flags_t,
            _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>
        ) {
            guard let value else { return }
            result[keyPath: field] = bytes(value)
            flags |= flag
        }
        set(properties.contentType, BasicFlag.contentType, \.content_type)
        set(properties.contentEncoding, BasicFlag.contentEncoding, \.content_encoding)
        set(properties.correlationID, BasicFlag.correlationID, \.correlation_id)
        set(properties.replyTo, BasicFlag.replyTo, \.reply_to)
        set(properties.expiration, BasicFlag.expiration, \.expiration)
        set(properties.messageID, BasicFlag.messageID, \.message_id)
        set(properties.type, BasicFlag.type, \.type)
        set(properties.userID, BasicFlag.userID, \.user_id)
        set(properties.appID, BasicFlag.appID, \.app_id)
        if !properties.headers.isEmpty {
            result.headers = table(properties.headers)
            flags |= BasicFlag.headers
        }
        if let priority = properties.priority {
            result.priority = priority
            flags |= BasicFlag.priority
        }
        if let timestamp = properties.timestamp {
            result.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970.rounded(.down)))
            flags |= BasicFlag.timestamp
        }
        result._flags = flags
        return result
    }
}
