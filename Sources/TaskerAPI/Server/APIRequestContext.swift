public import Hummingbird
internal import TaskerCore

/// The request context of every route the server has: Hummingbird's core storage plus who is
/// asking (set by an authentication middleware, e.g. ``AuthenticationMiddleware``; a
/// dashboard's session middleware can set it the same way).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; `nil` before authentication and on public routes.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// The largest request body read: ``TaskRequest/maxBodyBytes`` (1 MiB), as on the AMQP path.
    public var maxUploadSize: Int { TaskRequest.maxBodyBytes }

    /// The caller, who must hold `scope`.
    /// - Throws: ``APIError`` 401 when nobody is authenticated, 403 without the scope.
    public func require(_ scope: APIScope) throws(APIError) -> Principal {
        guard let principal else { throw APIError.unauthorized("credentials required") }
        guard principal.has(scope) else { throw APIError.forbidden(missing: scope) }
        return principal
    }
}
