public import Hummingbird
public import Foundation
public import TaskerCore

/// JSON responses: canonical JSON (sorted keys, no extra whitespace), UTF-8.
public enum JSONResponse {
    /// `value` as a response with `status`.
    public static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let data = value.canonicalData()
        fields[.contentLength] = String(data.count)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Timestamps in responses and query parameters: RFC 3339 / ISO 8601 in UTC, with milliseconds.
public enum APITime {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    /// `2026-11-30T14:52:07.123456Z`: microseconds, as on the wire (``WireTimestamp``), so a
    /// time read from one answer can bound a query exactly (`created_after=` a task's `created_at`).
    public static func format(_ date: Date) -> String { WireTimestamp.string(from: date) }

    /// `date` as a JSON string, or null.
    public static func json(_ date: Date?) -> JSONValue { date.map { .string(format($0)) } ?? .null }

    /// Reads `2026-11-30T14:52:07Z` or `2026-11-30T14:52:07.123+01:00`; `nil` when it is neither.
    public static func parse(_ text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }
}
