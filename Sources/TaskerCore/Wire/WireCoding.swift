public import Foundation

/// JSON encoding shared by every message on the wire.
///
/// Keys are snake_case (declared per type), dates are ISO 8601 strings with fractional
/// seconds in UTC, and every message body carries `schema_version`.
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
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) {
                return date
            }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
        }
        return decoder
    }

    /// Encodes a message body.
    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder().encode(value)
    }

    /// Decodes a message body, turning decoding errors into one readable line.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(WireDecodingError) -> T {
        do {
            return try decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw WireDecodingError(reason: error.readableReason)
        } catch {
            throw WireDecodingError(reason: "\(error)")
        }
    }
}

/// A message body that is not a valid instance of its schema.
public struct WireDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { "undecodable message: \(reason)" }
}
