public import Hummingbird
internal import Logging

/// Authenticates every request it sees with an ``Authenticator`` and stores the caller in
/// ``APIRequestContext/principal``; answers 401 when that fails. Scopes are checked by the
/// routes (``APIRequestContext/require(_:)``), which know what they need.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let authenticator: Authenticator

    public init(_ authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    public func handle(_ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        context.principal = try authenticator.authenticate(request.headers)
        context.logger[metadataKey: "tasker.api.caller"] = .string(context.principal?.name ?? "")
        return try await next(request, context)
    }
}
