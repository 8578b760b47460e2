public import Foundation

/// Encodes `Encodable` types into a ``JSONValue``: the counterpart of ``JSONValueDecoder``.
///
/// Wire messages are encoded to a tree and written with ``JSONValue/canonicalData()``, where
/// `JSONEncoder` went through its own boxed representation and string formatting (its UUIDs
/// through `snprintf`). A ``JSONValue`` member is stored as it is; `UUID`s are written as
/// `uuidString` does, dates with ``dateEncoding`` (seconds since 1970 when `nil`), URLs as
/// their absolute string. Non-finite numbers are refused, as `JSONEncoder` refuses them.
public struct JSONValueEncoder: Sendable {
    /// Writes a `Date` as a JSON value; `nil` writes seconds since 1970.
    public var dateEncoding: (@Sendable (Date) -> JSONValue)?

    public init(dateEncoding: (@Sendable (Date) -> JSONValue)? = nil) {
        self.dateEncoding = dateEncoding
    }

    /// Encodes `value` as a JSON value.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try ValueEncoding(codingPath: [], options: self).wrap(value, at: nil).resolved
    }
}

// MARK: Values under construction

/// An object whose members are still being encoded (containers are filled after they are handed out).
private final class ObjectBuilder {
    var members: [String: PendingValue] = [:]
}

/// An array whose elements are still being encoded.
private final class ArrayBuilder {
    var elements: [PendingValue] = []
}

private enum PendingValue {
    case value(JSONValue)
    case object(ObjectBuilder)
    case array(ArrayBuilder)
    /// A `superEncoder`'s value, known once the caller has used it.
    case encoder(ValueEncoding)

    var resolved: JSONValue {
        switch self {
        case .value(let value): return value
        case .object(let object): return .object(object.members.mapValues(\.resolved))
        case .array(let array): return .array(array.elements.map(\.resolved))
        case .encoder(let encoder): return encoder.storage?.resolved ?? .object([:])
        }
    }
}

// MARK: Encoder

private final class ValueEncoding: Encoder {
    let codingPath: [any CodingKey]
    let options: JSONValueEncoder
    var storage: PendingValue?

    init(codingPath: [any CodingKey], options: JSONValueEncoder) {
        self.codingPath = codingPath
        self.options = options
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: ObjectBuilder
        if case .object(let existing) = storage {
            object = existing
        } else {
            object = ObjectBuilder()
            storage = .object(object)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(object: object, encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: ArrayBuilder
        if case .array(let existing) = storage {
            array = existing
        } else {
            array = ArrayBuilder()
            storage = .array(array)
        }
        return UnkeyedContainer(array: array, encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }

    /// The value of `value`, encoded at `key` below this encoder's path. Common leaf types skip
    /// the `Encodable` machinery.
    func wrap<T: Encodable>(_ value: T, at key: (any CodingKey)?) throws -> PendingValue {
        if T.self == JSONValue.self { return .value(value as! JSONValue) }
        if T.self == String.self { return .value(.string(value as! String)) }
        if T.self == UUID.self { return .value(.string((value as! UUID).uppercaseHexString)) }
        if T.self == Date.self {
            let date = value as! Date
            return .value(options.dateEncoding?(date) ?? .double(date.timeIntervalSince1970))
        }
        if T.self == URL.self { return .value(.string((value as! URL).absoluteString)) }
        if T.self == Int.self { return .value(.int(Int64(value as! Int))) }
        if T.self == Double.self { return .value(try number(value as! Double, at: key)) }
        if T.self == Bool.self { return .value(.bool(value as! Bool)) }
        let child = ValueEncoding(codingPath: key.map { codingPath + [$0] } ?? codingPath, options: options)
        try value.encode(to: child)
        return child.storage ?? .value(.object([:]))
    }

    func number(_ value: Double, at key: (any CodingKey)?) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: key.map { codingPath + [$0] } ?? codingPath,
                debugDescription: "Unable to encode Double.\(value) directly in JSON."))
        }
        return .double(value)
    }

    static func integer<T: BinaryInteger>(_ value: T) -> JSONValue {
        if let exact = Int64(exactly: value) { return .int(exact) }
        return .double(Double(value))
    }
}

// MARK: Containers



private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectBuilder
    let encoder: ValueEncoding
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ value: JSONValue, _ key: Key) { object.members[key.stringValue] = .value(value) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try encoder.number(value, at: key), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try encoder.number(Double(value), at: key), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(ValueEncoding.integer(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(ValueEncoding.integer(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.members[key.stringValue] = try encoder.wrap(value, at: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = ObjectBuilder()
        object.members[key.stringValue] = .object(nested)
        let child = ValueEncoding(codingPath: codingPath + [key], options: encoder.options)
        child.storage = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, encoder: child))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBuilder()
        object.members[key.stringValue] = .array(nested)
        return UnkeyedContainer(array: nested, encoder: ValueEncoding(codingPath: codingPath + [key], options: encoder.options))
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: JSONSuperKey()) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let child = ValueEncoding(codingPath: codingPath + [key], options: encoder.options)
        object.members[key.stringValue] = .encoder(child)
        return child
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: ArrayBuilder
    let encoder: ValueEncoding
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { array.elements.count }

    private var nextKey: JSONIndexKey { JSONIndexKey(intValue: array.elements.count) }
    private func append(_ value: JSONValue) { array.elements.append(.value(value)) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try encoder.number(value, at: nextKey)) }
    mutating func encode(_ value: Float) throws { append(try encoder.number(Double(value), at: nextKey)) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt) throws { append(ValueEncoding.integer(value)) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { append(ValueEncoding.integer(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try encoder.wrap(value, at: nextKey))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBuilder()
        let child = ValueEncoding(codingPath: codingPath + [nextKey], options: encoder.options)
        child.storage = .object(nested)
        array.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, encoder: child))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBuilder()
        let child = ValueEncoding(codingPath: codingPath + [nextKey], options: encoder.options)
        array.elements.append(.array(nested))
        return UnkeyedContainer(array: nested, encoder: child)
    }

    mutating func superEncoder() -> any Encoder {
        let child = ValueEncoding(codingPath: codingPath + [nextKey], options: encoder.options)
        array.elements.append(.encoder(child))
        return child
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoding
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ value: JSONValue) { encoder.storage = .value(value) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try encoder.number(value, at: nil)) }
    mutating func encode(_ value: Float) throws { set(try encoder.number(Double(value), at: nil)) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(ValueEncoding.integer(value)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(ValueEncoding.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.storage = try encoder.wrap(value, at: nil) }
}
