internal import Foundation
public import Hummingbird
internal import NIOCore
internal import TaskerPostgres

/// Builds the server's router: error handling around everything, the public routes, and the
/// `/v1` routes behind authentication.
///
/// ```swift
/// let router = APIRouter.make(dependencies: dependencies, authenticator: authenticator, openAPIDocument: document)
/// // More routes with their own middleware, e.g. a dashboard with session cookies
/// // (`APIServer(extendRouter:)` does this for the server):
/// router.group("ui").add(middleware: SessionMiddleware()).get { request, context in … }
/// ```
public enum APIRouter {
    public static func make(
        dependencies: APIDependencies, authenticator: Authenticator, openAPIDocument: String,
        extraCollections: [any APIRouteCollection] = []
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let database = dependencies.database
        let broker = dependencies.broker
        router.add(middleware: APIErrorMiddleware {
            if !database.isReady { return "the database" }
            if !broker.isConnected { return "the message broker" }
            return nil
        })
        PublicRoutes(dependencies: dependencies, openAPIDocument: ByteBuffer(string: openAPIDocument)).register(on: router)
        let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(authenticator))
        let collections: [any APIRouteCollection] = [
            TaskRoutes(dependencies: dependencies), TaskActionRoutes(actions: dependencies.actions),
            TemplateRoutes(dependencies: dependencies), DeadLetterRoutes(dependencies: dependencies),
        ]
        for collection in collections + extraCollections { collection.register(on: v1) }
        return router
    }
}

/// The OpenAPI 3.1 document of the API (`Sources/TaskerAPI/Resources/openapi.yaml`), as served
/// at `/openapi.yaml`.
public enum OpenAPIDocument {
    /// The document's text.
    /// - Throws: when the resource is missing from the build.
    public static func load() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
