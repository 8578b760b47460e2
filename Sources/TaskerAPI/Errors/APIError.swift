public import Hummingbird
internal import Foundation
public import TaskerCore

/// An error answered to the client in the API's one error shape:
/// `{"error": "<code>", "message": "<for people>", "details": {…}}`.
///
/// Route handlers throw these; ``APIErrorMiddleware`` turns every other error into one too.
/// Messages say what was wrong with the request, never how the server is built (no SQL, no
/// stack, no secret).
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code (`not_found`, `validation_failed`, …).
    public var code: String
    public var message: String
    /// Always an object; `{}` when there is nothing more to say.
    public var details: JSONValue
    /// Extra response headers (`WWW-Authenticate` on 401, `Retry-After` on 503).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, details: JSONValue = .object([:]), headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    /// The error as an HTTP response.
    public var response: Response {
        let body: JSONValue = ["error": .string(code), "message": .string(message), "details": details]
        return JSONResponse.make(body, status: status, headers: headers)
    }

    // MARK: The errors the API answers

    /// 400: the body is not JSON, or not the JSON object the endpoint takes; or a query
    /// parameter is malformed.
    public static func badRequest(_ message: String, details: JSONValue = .object([:])) -> APIError {
        APIError(.badRequest, code: "bad_request", message: message, details: details)
    }

    /// 401: no credentials, or credentials that do not check out.
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: #"Bearer realm="tasker""#])
    }

    /// 403: authenticated, but without the scope the endpoint needs.
    public static func forbidden(missing scope: APIScope) -> APIError {
        APIError(
            .forbidden, code: "forbidden", message: "this endpoint needs the scope \(scope)",
            details: ["required_scope": .string(scope.rawValue)])
    }

    /// 404: no such resource (or no such route).
    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    /// 409: the state machine refuses the requested change.
    public static func conflict(_ message: String, details: JSONValue = .object([:])) -> APIError {
        APIError(.conflict, code: "refused", message: message, details: details)
    }

    /// 413: the body is over the limit.
    public static func tooLarge(limit: Int) -> APIError {
        APIError(
            .contentTooLarge, code: "payload_too_large", message: "the request body is over the limit of \(limit) bytes",
            details: ["limit_bytes": .int(Int64(limit))])
    }

    /// 422: well-formed, but not valid; `errors` lists every problem found.
    public static func validation(_ errors: [String], message: String = "the request is not valid") -> APIError {
        APIError(.unprocessableContent, code: "validation_failed", message: message, details: ["errors": .array(errors.map(JSONValue.string))])
    }

    /// 503: the database or the broker cannot be reached right now; retry later.
    public static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message: message, headers: [.retryAfter: "5"])
    }
}
