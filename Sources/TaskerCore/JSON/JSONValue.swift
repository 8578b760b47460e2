public import Foundation

/// A JSON document: task contexts, step results, handler configuration and event payloads.
///
/// Integers are kept apart from floating-point numbers so that 64-bit values (ids,
/// modular arithmetic in the reference workflows) survive a round trip exactly.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// The members of an object, or `nil` for any other kind of value.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The string, or `nil`.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer; a double with no fractional part also counts.
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        default: return nil
        }
    }

    /// Any number as a `Double`.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The boolean, or `nil`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { self == .null }

    /// Member lookup on objects; `nil` for missing keys and non-objects.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The JSON type name used in error messages and schema checks.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        // Decoding from a parsed tree (JSONValueDecoder) takes the value as it is.
        if let tree = decoder as? any JSONValueTree {
            self = tree.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Parses JSON text.
    ///
    /// Text nested deeper than `maxDepth` is refused before it is parsed (the parser recurses
    /// once per level). ``parse(_:)-(Data)`` uses ``InputLimit/parserNestingDepth``, the ceiling
    /// for any JSON Tasker reads back from its own storage; decoders of outside input pass the
    /// stricter ``InputLimit/messageNestingDepth``.
    /// - Throws: ``JSONValue/ParseError`` with a readable reason when the text is not JSON,
    ///   or names the limit (``JSONValue/ParseError/limit``) when it is nested too deeply.
    public static func parse(_ data: Data, maxDepth: InputLimit) throws -> JSONValue {
        let depth = JSONText.nestingDepth(of: data)
        if depth > maxDepth.maximum {
            throw ParseError(limit: maxDepth.exceeded(by: depth))
        }
        return try JSONParser.parse(data)
    }

    /// Parses JSON text nested at most ``InputLimit/parserNestingDepth`` levels deep.
    public static func parse(_ data: Data) throws -> JSONValue {
        try parse(data, maxDepth: .parserNestingDepth)
    }

    /// Parses JSON text given as a string.
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Data(text.utf8), maxDepth: .parserNestingDepth)
    }

    /// Canonical JSON: object keys sorted, no insignificant whitespace. Equal values give equal bytes.
    public func canonicalData() -> Data {
        Data(canonicalBytes())
    }

    /// ``canonicalData()`` as a string.
    public var canonicalString: String {
        String(decoding: canonicalBytes(), as: UTF8.self)
    }

    /// ``canonicalData()`` as bytes.
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        writeCanonical(into: &out)
        return out
    }

    private func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value):
            if value.isFinite, value.rounded() == value, abs(value) < 1e15 {
                out.append(contentsOf: String(Int64(value)).utf8)
            } else if value.isFinite {
                out.append(contentsOf: value.description.utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let value): Self.writeString(value, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A string with `"`, `\\`, newline, carriage return and tab escaped, other control
    /// characters as `\u00xx`, and everything else as its UTF-8 bytes.
    private static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Why a text could not be parsed as JSON.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let reason: String
        /// The limit the text is over, when that is why it was refused.
        public let limit: InputLimitExceeded?

        init(reason: String) {
            self.reason = reason
            self.limit = nil
        }

        init(limit: InputLimitExceeded) {
            self.reason = limit.description
            self.limit = limit
        }

        public var description: String { limit == nil ? "malformed JSON: \(reason)" : "JSON refused: \(reason)" }
    }
}

extension DecodingError {
    /// A one-line reason without the Swift type dump of the default description.
    var readableReason: String {
        switch self {
        case .dataCorrupted(let context):
            var detail = context.debugDescription
            if let underlying = context.underlyingError as NSError?,
                let underlyingDetail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
            {
                detail = underlyingDetail
            }
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? detail : "\(path): \(detail)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
