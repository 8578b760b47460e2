public import Hummingbird
internal import Foundation
internal import Logging
internal import TaskerCore
internal import TaskerPostgres

/// Answers every error in the API's one shape (``APIError``) and logs each request once.
///
/// Add it first (outermost), so it also sees the router's 404s, body-size refusals and
/// authentication failures. An error that is not an ``APIError`` or an HTTP error becomes a
/// 503 when it says the database or the broker is unavailable, or when `unavailable` reports a
/// dependency not ready at the time (a pool being replaced fails its leases with errors of its
/// own); else a 500 whose message names only the request id. The error itself goes to the log,
/// never to the client.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What is not ready now (`"the database"`), or `nil` when everything is.
    let unavailable: @Sendable () -> String?

    public init(unavailable: @escaping @Sendable () -> String? = { nil }) {
        self.unavailable = unavailable
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = errorResponse(for: error, request: request, context: context)
        }
        let level: Logger.Level = response.status == .internalServerError ? .warning : .debug
        context.logger.log(
            level: level, "request",
            metadata: [
                "http.method": "\(request.method)", "http.route": "\(context.endpointPath ?? request.uri.path)",
                "http.status": "\(response.status.code)", "http.duration_ms": "\((ContinuousClock.now - started).milliseconds)",
            ])
        return response
    }

    func errorResponse(for error: any Error, request: Request, context: Context) -> Response {
        switch error {
        case let error as APIError:
            return error.response
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return APIError.notFound("no route for \(request.method) \(request.uri.path)").response
            case .contentTooLarge: return APIError.tooLarge(limit: context.maxUploadSize).response
            case .badRequest: return APIError.badRequest("malformed request").response
            default:
                let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
                return APIError(error.status, code: code, message: error.status.reasonPhrase).response
            }
        case is BrokerUnavailable:
            return APIError.unavailable("the message broker is not reachable; retry later").response
        default:
            if Database.isUnavailable(error) {
                return APIError.unavailable("the database is not reachable; retry later").response
            }
            if let missing = unavailable() {
                context.logger.debug("request failed while a dependency is not ready", metadata: [LogKeys.error: "\(String(reflecting: error))"])
                return APIError.unavailable("\(missing) is not reachable; retry later").response
            }
            context.logger.error("request failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal_error", message: "internal error (request \(context.id))").response
        }
    }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }
}
