public import Foundation

/// JSON encoding shared by every message on the wire.
///
/// Keys are snake_case (declared per type), dates are ISO 8601 strings in UTC with
/// microseconds (``WireTimestamp``), and every message body carries `schema_version`.
public enum WireCoding {
    /// The version of the message schemas in docs/wire-protocol.md.
    public static let schemaVersion = 1
    /// AMQP header carrying ``schemaVersion`` on every message.
    public static let schemaVersionHeader = "x-tasker-schema-version"
    /// Content type of every message body.
    public static let contentType = "application/json"

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(WireTimestamp.string(from: date))
        }
        return encoder
    }

    /// A `JSONDecoder` for message bodies, for callers that need one (``decode(_:from:)`` parses
    /// with ``JSONParser`` and decodes with ``JSONValueDecoder`` instead, accepting the same).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                return try date(from: .double(seconds), at: decoder.codingPath)
            }
            return try date(from: .string(try container.decode(String.self)), at: decoder.codingPath)
        }
        return decoder
    }

    /// Decodes message bodies from parsed JSON, with wire dates.
    static let treeDecoder = JSONValueDecoder(dateDecoding: { value, path in try date(from: value, at: path) })

    /// A wire date: ISO 8601 text (any number of fractional digits, or none), or seconds since
    /// 1970 as a number.
    static func date(from value: JSONValue, at path: [any CodingKey]) throws -> Date {
        if let seconds = value.doubleValue {
            guard datesInSeconds.contains(seconds) else {
                throw DecodingError.dataCorrupted(DecodingError.Context(
                    codingPath: path, debugDescription: "\(seconds) seconds since 1970 is not a date from year 1 to 9999"))
            }
            return Date(timeIntervalSince1970: seconds)
        }
        guard let text = value.stringValue else {
            throw DecodingError.typeMismatch(Date.self, DecodingError.Context(
                codingPath: path, debugDescription: "Expected a date (ISO 8601 text or seconds) but found \(value.typeName) instead."))
        }
        if let date = WireTimestamp.date(from: text) { return date }
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) {
            return date
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path, debugDescription: "'\(text)' is not an ISO 8601 date"))
    }

    /// Encodes a message body: its canonical JSON (keys sorted, no whitespace), built with
    /// ``JSONValueEncoder``, dates as ``WireTimestamp`` text.
    public static func encode(_ value: some Encodable) throws -> Data {
        try wireValue(of: value).canonicalData()
    }

    /// A message body as the JSON value ``encode(_:)`` writes (a batch of reports nests them).
    static func wireValue(of value: some Encodable) throws -> JSONValue {
        if let direct = value as? any DirectWireEncodable, let tree = direct.wireValue { return tree }
        return try treeEncoder.encode(value)
    }

    /// ``encode(_:)`` through the `Encodable` conformance, as every message but the hot ones
    /// (``DirectWireEncodable``) is encoded.
    package static func encodeThroughCodable(_ value: some Encodable) throws -> Data {
        try treeEncoder.encode(value).canonicalData()
    }

    /// Encodes message bodies to JSON values, with wire dates.
    static let treeEncoder = JSONValueEncoder(dateEncoding: { .string(WireTimestamp.string(from: $0)) })

    /// Dates given as seconds since 1970 must fall in years 1 to 9999, like the ISO 8601 form.
    static let datesInSeconds: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    /// Decodes a parsed body through the `Decodable` conformance, as every message but the hot
    /// ones (``DirectWireDecodable``) is decoded; no limits are checked.
    package static func decodeThroughCodable<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try treeDecoder.decode(type, from: try JSONParser.parse(data))
    }

    /// Decodes a message body, turning decoding errors into one readable line.
    ///
    /// Before parsing, the body must be within its type's size limit (``InputLimit/stepDispatchBody``,
    /// ``InputLimit/stepResultBody``, else ``InputLimit/otherMessageBody``) and nested at most
    /// ``InputLimit/messageNestingDepth`` levels deep; after, a dispatch or result must keep its
    /// JSON values within ``InputLimit/nestingDepth``.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(WireDecodingError) -> T {
        let checked = T.self as? any CheckedWireMessage.Type
        let bodyLimit = checked?.bodyLimit ?? .otherMessageBody
        guard data.count <= bodyLimit.maximum else {
            throw WireDecodingError(limit: bodyLimit.exceeded(by: data.count))
        }
        let depth = JSONText.nestingDepth(of: data)
        guard depth <= InputLimit.messageNestingDepth.maximum else {
            throw WireDecodingError(limit: InputLimit.messageNestingDepth.exceeded(by: depth, in: bodyLimit.subject))
        }
        return try decode(type, fromParsed: try parse(data))
    }

    /// Parses a body whose size and nesting were checked, turning a parse error into one line.
    static func parse(_ data: Data) throws(WireDecodingError) -> JSONValue {
        do {
            return try JSONParser.parse(data)
        } catch let error as JSONValue.ParseError {
            throw WireDecodingError(reason: "malformed JSON: \(error.reason)")
        } catch {
            throw WireDecodingError(reason: "\(error)")
        }
    }

    /// Decodes a message from its parsed body (or a member of one) and checks its values.
    static func decode<T: Decodable>(_ type: T.Type, fromParsed parsed: JSONValue) throws(WireDecodingError) -> T {
        let value: T
        do {
            if let direct = T.self as? any DirectWireDecodable.Type, let members = parsed.objectValue,
                let message = direct.init(wireMembers: members) as? T
            {
                value = message
            } else {
                value = try treeDecoder.decode(type, from: parsed)
            }
        } catch let error as DecodingError {
            throw WireDecodingError(reason: error.readableReason)
        } catch {
            throw WireDecodingError(reason: "\(error)")
        }
        if let message = value as? any CheckedWireMessage {
            try message.check()
        }
        return value
    }
}

/// A message type whose decoding checks more than the JSON schema: a body size limit of its
/// own and the values it carries.
protocol CheckedWireMessage {
    /// The largest body accepted.
    static var bodyLimit: InputLimit { get }
    /// Throws when a decoded value is over a limit or out of range.
    func check() throws(WireDecodingError)
}

/// A message body that is not a valid instance of its schema, or is over an input limit.
public struct WireDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    /// The limit the body is over, when that is why it was refused.
    public let limit: InputLimitExceeded?

    public init(reason: String) {
        self.reason = reason
        self.limit = nil
    }

    public init(limit: InputLimitExceeded) {
        self.reason = limit.description
        self.limit = limit
    }

    public var description: String { "undecodable message: \(reason)" }
}
