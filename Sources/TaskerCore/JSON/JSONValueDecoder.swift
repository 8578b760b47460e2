public import Foundation

/// Decodes `Decodable` types from a parsed ``JSONValue``.
///
/// Wire messages are parsed once by ``JSONParser`` and decoded from the tree: a ``JSONValue``
/// member (results, context, handler configuration) is taken as it is, where `JSONDecoder`
/// rebuilt it through ``JSONValue``'s `Decodable` conformance. Errors are `DecodingError`s with
/// the coding path, like `JSONDecoder`'s. Keys are used as declared (no key strategy).
public struct JSONValueDecoder: Sendable {
    /// Reads a `Date` from its JSON value; `nil` decodes dates as seconds since 1970.
    public var dateDecoding: (@Sendable (JSONValue, [any CodingKey]) throws -> Date)?

    public init(dateDecoding: (@Sendable (JSONValue, [any CodingKey]) throws -> Date)? = nil) {
        self.dateDecoding = dateDecoding
    }

    /// Decodes `type` from `value`.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoding(value: value, path: nil, options: self).decodeValue(type)
    }
}

/// The coding path as a chain from the leaf back to the root; turned into an array only when
/// a `Decoder` is asked for it (errors, custom `init(from:)`s that read it).
private final class CodingPathNode {
    let key: any CodingKey
    let parent: CodingPathNode?

    init(_ key: any CodingKey, parent: CodingPathNode?) {
        self.key = key
        self.parent = parent
    }

    static func path(of node: CodingPathNode?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = node
        while let node = current {
            keys.append(node.key)
            current = node.parent
        }
        return keys.reversed()
    }
}


/// A `Decoder` reading from a parsed tree: ``JSONValue/init(from:)`` takes its value as it is.
protocol JSONValueTree {
    var value: JSONValue { get }
}

/// The `Decoder` and single-value container for one value of the tree.
private struct JSONValueDecoding: Decoder, SingleValueDecodingContainer, JSONValueTree {
    let value: JSONValue
    let path: CodingPathNode?
    let options: JSONValueDecoder

    var codingPath: [any CodingKey] { CodingPathNode.path(of: path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch value {
        case .object(let members):
            return KeyedDecodingContainer(KeyedContainer<Key>(members: members, path: path, options: options))
        case .null:
            throw DecodingError.valueNotFound(
                [String: JSONValue].self, context("Cannot get keyed decoding container -- found null value instead"))
        default:
            throw mismatch([String: JSONValue].self)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements):
            return UnkeyedContainer(elements: elements, path: path, options: options)
        case .null:
            throw DecodingError.valueNotFound(
                [JSONValue].self, context("Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw mismatch([JSONValue].self)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Single value

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        if case .bool(let bool) = value { return bool }
        throw notA(type)
    }

    func decode(_ type: String.Type) throws -> String {
        if case .string(let string) = value { return string }
        throw notA(type)
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .double(let double): return double
        case .int(let int): return Double(int)
        default: throw notA(type)
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }

    /// Decodes any type from this value: a ``JSONValue`` is the value itself, a `Date` goes
    /// through the date decoding, a `UUID` or `URL` is read from its string, anything else
    /// decodes itself.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == Date.self { return try decodeDate() as! T }
        if T.self == UUID.self {
            let text = try decode(String.self)
            guard let id = UUID(hexString: text) else {
                throw DecodingError.dataCorrupted(context("Attempted to decode UUID from invalid UUID string."))
            }
            return id as! T
        }
        if T.self == URL.self {
            guard let url = URL(string: try decode(String.self)) else {
                throw DecodingError.dataCorrupted(context("Invalid URL string."))
            }
            return url as! T
        }
        return try T(from: self)
    }

    private func decodeDate() throws -> Date {
        if let dateDecoding = options.dateDecoding { return try dateDecoding(value, codingPath) }
        return Date(timeIntervalSince1970: try decode(Double.self))
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let converted: T?
        switch value {
        case .int(let int): converted = T(exactly: int)
        case .double(let double): converted = T(exactly: double)
        default: throw notA(type)
        }
        guard let converted else {
            throw DecodingError.dataCorrupted(context("Parsed JSON number <\(value.canonicalString)> does not fit in \(T.self)."))
        }
        return converted
    }

    // MARK: Errors

    func context(_ description: String) -> DecodingError.Context {
        DecodingError.Context(codingPath: codingPath, debugDescription: description)
    }

    private func notA<T>(_ type: T.Type) -> DecodingError {
        if value == .null {
            return DecodingError.valueNotFound(type, context("Cannot get value of type \(T.self) -- found null value instead"))
        }
        return mismatch(type)
    }

    private func mismatch<T>(_ type: T.Type) -> DecodingError {
        DecodingError.typeMismatch(type, context("Expected to decode \(T.self) but found \(value.typeName) instead."))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: CodingPathNode?
    let options: JSONValueDecoder

    var codingPath: [any CodingKey] { CodingPathNode.path(of: path) }
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValueDecoding {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(
                codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return JSONValueDecoding(value: value, path: CodingPathNode(key, parent: path), options: options)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(key).decodeValue(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = JSONSuperKey()
        return JSONValueDecoding(value: members[key.stringValue] ?? .null, path: CodingPathNode(key, parent: path), options: options)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoding(value: members[key.stringValue] ?? .null, path: CodingPathNode(key, parent: path), options: options)
    }

}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: CodingPathNode?
    let options: JSONValueDecoder
    private(set) var currentIndex = 0

    init(elements: [JSONValue], path: CodingPathNode?, options: JSONValueDecoder) {
        self.elements = elements
        self.path = path
        self.options = options
    }

    var codingPath: [any CodingKey] { CodingPathNode.path(of: path) }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The current element; `currentIndex` moves on only once it decoded.
    private func current() throws -> JSONValueDecoding {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, DecodingError.Context(
                codingPath: codingPath + [JSONIndexKey(intValue: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        return JSONValueDecoding(
            value: elements[currentIndex], path: CodingPathNode(JSONIndexKey(intValue: currentIndex), parent: path), options: options)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoded = try current().decodeValue(type)
        currentIndex += 1
        return decoded
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try current().container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try current().unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = try current()
        currentIndex += 1
        return decoder
    }
}
