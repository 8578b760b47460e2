import CRabbitMQ
import Glibc

/// Owns C memory handed to librabbitmq for the duration of one call.
///
/// Strings, field tables and property blocks are copied into `malloc`ed memory that is freed
/// when the arena is released, so no pointer into a temporary Swift buffer ever reaches C.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {}

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let pointer = malloc(max(size, 1))!
        allocations.append(pointer)
        return pointer
    }

    /// A NUL-terminated copy of `string`.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let pointer = allocate(utf8.count + 1)
            if let base = utf8.baseAddress { pointer.copyMemory(from: base, byteCount: utf8.count) }
            pointer.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
        }
    }

    /// `amqp_bytes_t` holding a copy of `string`'s UTF-8.
    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { utf8 in
            let pointer = allocate(utf8.count)
            if let base = utf8.baseAddress { pointer.copyMemory(from: base, byteCount: utf8.count) }
            return amqp_bytes_t(len: utf8.count, bytes: pointer)
        }
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { raw in
            let pointer = allocate(raw.count)
            if let base = raw.baseAddress { pointer.copyMemory(from: base, byteCount: raw.count) }
            return amqp_bytes_t(len: raw.count, bytes: pointer)
        }
    }

    func table(_ dictionary: [String: AMQPFieldValue]) -> amqp_table_t {
        if dictionary.isEmpty { return amqp_empty_table }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * dictionary.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: dictionary.count)
        for (index, (key, value)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: field(value)))
        }
        return amqp_table_t(num_entries: Int32(dictionary.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        switch value {
        case .string(let s): return tasker_amqp_field_utf8(bytes(s))
        case .int(let i): return tasker_amqp_field_i64(i)
        case .bool(let b): return tasker_amqp_field_bool(b ? 1 : 0)
        case .double(let d): return tasker_amqp_field_f64(d)
        case .timestamp(let t): return tasker_amqp_field_timestamp(t)
        case .bytes(let b):
            var v = tasker_amqp_field_utf8(bytes(b))
            v.kind = UInt8(UInt32(AMQP_FIELD_KIND_BYTES.rawValue))
            return v
        case .table(let t): return tasker_amqp_field_table(table(t))
        case .void: return tasker_amqp_field_void()
        case .array(let items):
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(items.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(items.count, 1))
            for (index, item) in items.enumerated() { (entries + index).initialize(to: field(item)) }
            return tasker_amqp_field_array(amqp_array_t(num_entries: Int32(items.count), entries: entries))
        }
    }

    /// Fills an `amqp_basic_properties_t` from ``AMQPProperties``.
    func properties(_ p: AMQPProperties, extraHeaders: [String: AMQPFieldValue] = [:]) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: amqp_flags_t = TASKER_AMQP_BASIC_DELIVERY_MODE_FLAG
        c.delivery_mode = p.persistent ? 2 : 1
        if let v = p.contentType { flags |= TASKER_AMQP_BASIC_CONTENT_TYPE_FLAG; c.content_type = bytes(v) }
        if let v = p.contentEncoding { flags |= TASKER_AMQP_BASIC_CONTENT_ENCODING_FLAG; c.content_encoding = bytes(v) }
        if let v = p.messageID { flags |= TASKER_AMQP_BASIC_MESSAGE_ID_FLAG; c.message_id = bytes(v) }
        if let v = p.correlationID { flags |= TASKER_AMQP_BASIC_CORRELATION_ID_FLAG; c.correlation_id = bytes(v) }
        if let v = p.replyTo { flags |= TASKER_AMQP_BASIC_REPLY_TO_FLAG; c.reply_to = bytes(v) }
        if let v = p.type { flags |= TASKER_AMQP_BASIC_TYPE_FLAG; c.type = bytes(v) }
        if let v = p.appID { flags |= TASKER_AMQP_BASIC_APP_ID_FLAG; c.app_id = bytes(v) }
        if let v = p.expiration { flags |= TASKER_AMQP_BASIC_EXPIRATION_FLAG; c.expiration = bytes(v) }
        if let v = p.timestamp { flags |= TASKER_AMQP_BASIC_TIMESTAMP_FLAG; c.timestamp = v }
        if let v = p.priority { flags |= TASKER_AMQP_BASIC_PRIORITY_FLAG; c.priority = v }
        if !p.headers.isEmpty || !extraHeaders.isEmpty {
            flags |= TASKER_AMQP_BASIC_HEADERS_FLAG
            c.headers = table(p.headers.merging(extraHeaders) { _, new in new })
        }
        c._flags = flags
        return c
    }
}

extension amqp_bytes_t {
    /// Points at `buffer` without copying; valid only while `buffer` is.
    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.init(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
    }
}

// MARK: - Reading C values into Swift

extension String {
    init(amqpBytes bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    init(amqpBytes bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = []
            return
        }
        self = Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }
}

extension AMQPFieldValue {
    init(_ c: amqp_field_value_t) {
        let kind = UInt32(c.kind)
        switch kind {
        case UInt32(AMQP_FIELD_KIND_UTF8.rawValue): self = .string(String(amqpBytes: c.value.bytes))
        case UInt32(AMQP_FIELD_KIND_BYTES.rawValue): self = .bytes([UInt8](amqpBytes: c.value.bytes))
        case UInt32(AMQP_FIELD_KIND_BOOLEAN.rawValue): self = .bool(c.value.boolean != 0)
        case UInt32(AMQP_FIELD_KIND_I8.rawValue): self = .int(Int64(c.value.i8))
        case UInt32(AMQP_FIELD_KIND_U8.rawValue): self = .int(Int64(c.value.u8))
        case UInt32(AMQP_FIELD_KIND_I16.rawValue): self = .int(Int64(c.value.i16))
        case UInt32(AMQP_FIELD_KIND_U16.rawValue): self = .int(Int64(c.value.u16))
        case UInt32(AMQP_FIELD_KIND_I32.rawValue): self = .int(Int64(c.value.i32))
        case UInt32(AMQP_FIELD_KIND_U32.rawValue): self = .int(Int64(c.value.u32))
        case UInt32(AMQP_FIELD_KIND_I64.rawValue): self = .int(c.value.i64)
        case UInt32(AMQP_FIELD_KIND_U64.rawValue): self = .int(Int64(clamping: c.value.u64))
        case UInt32(AMQP_FIELD_KIND_TIMESTAMP.rawValue): self = .timestamp(c.value.u64)
        case UInt32(AMQP_FIELD_KIND_F32.rawValue): self = .double(Double(c.value.f32))
        case UInt32(AMQP_FIELD_KIND_F64.rawValue): self = .double(c.value.f64)
        case UInt32(AMQP_FIELD_KIND_TABLE.rawValue): self = .table([String: AMQPFieldValue](c.value.table))
        case UInt32(AMQP_FIELD_KIND_ARRAY.rawValue):
            let array = c.value.array
            var items: [AMQPFieldValue] = []
            if let entries = array.entries {
                for index in 0..<Int(array.num_entries) { items.append(AMQPFieldValue(entries[index])) }
            }
            self = .array(items)
        default: self = .void
        }
    }
}

extension Dictionary where Key == String, Value == AMQPFieldValue {
    init(_ table: amqp_table_t) {
        self.init()
        guard let entries = table.entries else { return }
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            self[String(amqpBytes: entry.key)] = AMQPFieldValue(entry.value)
        }
    }
}

extension AMQPProperties {
    init(_ c: amqp_basic_properties_t) {
        let flags = c._flags
        func string(_ flag: amqp_flags_t, _ value: amqp_bytes_t) -> String? {
            flags & flag != 0 ? String(amqpBytes: value) : nil
        }
        self.init(
            contentType: string(TASKER_AMQP_BASIC_CONTENT_TYPE_FLAG, c.content_type),
            contentEncoding: string(TASKER_AMQP_BASIC_CONTENT_ENCODING_FLAG, c.content_encoding),
            messageID: string(TASKER_AMQP_BASIC_MESSAGE_ID_FLAG, c.message_id),
            correlationID: string(TASKER_AMQP_BASIC_CORRELATION_ID_FLAG, c.correlation_id),
            replyTo: string(TASKER_AMQP_BASIC_REPLY_TO_FLAG, c.reply_to),
            type: string(TASKER_AMQP_BASIC_TYPE_FLAG, c.type),
            appID: string(TASKER_AMQP_BASIC_APP_ID_FLAG, c.app_id),
            timestamp: flags & TASKER_AMQP_BASIC_TIMESTAMP_FLAG != 0 ? c.timestamp : nil,
            persistent: flags & TASKER_AMQP_BASIC_DELIVERY_MODE_FLAG != 0 && c.delivery_mode == 2,
            expiration: string(TASKER_AMQP_BASIC_EXPIRATION_FLAG, c.expiration),
            priority: flags & TASKER_AMQP_BASIC_PRIORITY_FLAG != 0 ? c.priority : nil,
            headers: flags & TASKER_AMQP_BASIC_HEADERS_FLAG != 0 ? [String: AMQPFieldValue](c.headers) : [:]
        )
    }
}
