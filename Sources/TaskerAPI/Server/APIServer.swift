internal import Foundation
public import Hummingbird
internal import NIOCore
public import Logging
public import ServiceLifecycle
internal import TaskerCore
public import TaskerPostgres
public import TaskerServices

/// Where the API listens and how it authenticates.
public struct APIServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); ``APIServer`` reports the one it got.
    public var port: Int
    public var authenticator: Authenticator
    /// The broker, topology, clock and start-up timeout, as the orchestration services use them.
    public var pipeline: PipelineConfiguration

    public init(host: String = "127.0.0.1", port: Int = 8080, authenticator: Authenticator, pipeline: PipelineConfiguration) {
        self.host = host
        self.port = port
        self.authenticator = authenticator
        self.pipeline = pipeline
    }
}

/// `tasker api`: the HTTP API as a swift-service-lifecycle service.
///
/// Serves at once (so `/health/live` answers while the database or the broker is still
/// unreachable; `/health/ready` says when both are there). On graceful shutdown it stops
/// accepting connections, finishes the requests in flight and closes its broker connections.
/// Run the ``Database`` in the same service group, listed before it.
///
/// ```swift
/// let server = try APIServer(configuration: configuration, database: database, actions: nil, logger: logger)
/// try await ServiceGroup(services: [database, server], logger: logger).run()
/// ```
public final class APIServer: Service {
    public let configuration: APIServerConfiguration
    public let dependencies: APIDependencies
    let logger: Logger
    let openAPIDocument: String
    let extraCollections: [any APIRouteCollection]
    let extendRouter: @Sendable (Router<APIRequestContext>, APIDependencies) -> Void
    let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - actions: The operator actions, or `nil` (their endpoints answer 501).
    ///   - makeActions: Makes the operator actions from the server's broker link (to publish on
    ///     its connection, ``BrokerLink/publishingConnection``); wins over `actions`.
    ///   - extraCollections: More `/v1` routes (behind the same authentication).
    ///   - extendRouter: Adds routes outside `/v1`, with middleware of their own (a dashboard
    ///     with session cookies): called with the router once the API's routes are in it.
    ///   - onListening: Called with the port once the server listens.
    /// - Throws: when the OpenAPI document is missing from the build or the broker settings are invalid.
    public init(
        configuration: APIServerConfiguration, database: Database, actions: (any TaskActionPerforming)? = nil,
        makeActions: (@Sendable (BrokerLink) -> any TaskActionPerforming)? = nil, logger: Logger,
        extraCollections: [any APIRouteCollection] = [],
        extendRouter: @escaping @Sendable (Router<APIRequestContext>, APIDependencies) -> Void = { _, _ in },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        let broker = try BrokerLink(amqp: configuration.pipeline.amqp, topology: configuration.pipeline.topology, logger: logger)
        self.dependencies = APIDependencies(
            database: database, pipeline: configuration.pipeline, broker: broker, actions: makeActions?(broker) ?? actions, logger: logger)
        self.openAPIDocument = try OpenAPIDocument.load()
        self.extraCollections = extraCollections
        self.extendRouter = extendRouter
        self.onListening = onListening
    }

    /// The router, with every route the server serves.
    public func makeRouter() -> Router<APIRequestContext> {
        let router = APIRouter.make(
            dependencies: dependencies, authenticator: configuration.authenticator, openAPIDocument: openAPIDocument,
            extraCollections: extraCollections)
        extendRouter(router, dependencies)
        return router
    }

    public func run() async throws {
        let authenticator = configuration.authenticator
        if authenticator.open {
            logger.warning(
                "the API runs OPEN (--insecure-open): requests without credentials are served with every scope; never expose it")
        }
        logger.info("API authentication", metadata: ["tasker.api.auth": "\(authenticator.summary)"])
        let logger = self.logger
        let onListening = self.onListening
        let host = configuration.host
        let app = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "tasker"),
            services: dependencies.broker.services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("api listening", metadata: ["http.host": "\(host)", "http.port": "\(port)"])
                await onListening(port)
            },
            logger: logger)
        let database = dependencies.database
        let intake = dependencies.intake
        let startupTimeout = configuration.pipeline.startupTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Readiness: a first query right away (instead of waiting for the pool's idle probe).
            group.addTask { try? await database.waitUntilReachable(timeout: startupTimeout) }
            group.addTask { await intake.flushPublishedOutboxUntilCancelled() }
            try await app.run()
            group.cancelAll()
        }
        try? await intake.flushPublishedOutbox()
        logger.info("api stopped")
    }
}
