public import Foundation
public import Hummingbird
public import TaskerCore

/// The query parameters of a request, checked against the names an endpoint accepts.
public struct QueryReader: Sendable {
    private var values: [String: [String]] = [:]

    /// Reads the request's query; an unknown parameter is a 400 (a misspelt filter must not
    /// silently match everything).
    public init(_ request: Request, accepted: Set<String>) throws(APIError) {
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard accepted.contains(name) else {
                throw APIError.badRequest(
                    "unknown query parameter '\(name)'", details: ["accepted": .array(accepted.sorted().map(JSONValue.string))])
            }
            values[name, default: []].append(String(value))
        }
    }

    /// The parameter's value; a parameter given twice is a 400.
    public func string(_ name: String) throws(APIError) -> String? {
        guard let all = values[name] else { return nil }
        guard all.count == 1 else { throw APIError.badRequest("query parameter '\(name)' given more than once") }
        return all[0]
    }

    /// Every value of a list parameter, given repeated (`state=a&state=b`) or comma-separated.
    public func list(_ name: String) -> [String]? {
        guard let all = values[name] else { return nil }
        return all.flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// An integer in `range`, or `defaultValue` when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(APIError) -> Int {
        guard let text = try string(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An RFC 3339 timestamp.
    public func time(_ name: String) throws(APIError) -> Date? {
        guard let text = try string(name) else { return nil }
        guard let date = APITime.parse(text) else {
            throw APIError.badRequest("query parameter '\(name)' must be an RFC 3339 timestamp such as 2026-11-30T12:00:00Z")
        }
        return date
    }
}

/// Reading request bodies and path parameters.
public enum RequestReading {
    /// The body as a JSON object, read up to ``APIRequestContext/maxUploadSize``.
    /// - Throws: ``APIError`` 413 over the limit, 422 nested too deeply, 400 when it is not
    ///   JSON or not an object.
    public static func jsonObject(_ request: Request, context: APIRequestContext) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer.readableBytesView)
        let document: JSONValue
        do {
            document = try JSONValue.parse(data, maxDepth: .messageNestingDepth)
        } catch let error as JSONValue.ParseError {
            if let limit = error.limit { throw APIError.validation([limit.description]) }
            throw APIError.badRequest("the body is not valid JSON: \(error.reason)")
        }
        guard let object = document.objectValue else {
            throw APIError.badRequest("the body must be a JSON object, got \(document.typeName)")
        }
        return object
    }

    /// A path parameter that must be a UUID (a task id).
    public static func uuid(_ name: String, _ context: APIRequestContext, what: String) throws(APIError) -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.notFound("no \(what) \(context.parameters.get(name) ?? ""): not a UUID")
        }
        return id
    }

    /// A path parameter as text.
    public static func text(_ name: String, _ context: APIRequestContext) throws(APIError) -> String {
        guard let text = context.parameters.get(name), !text.isEmpty else { throw APIError.notFound("missing \(name)") }
        return text
    }
}
