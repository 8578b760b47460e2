internal import Hummingbird
internal import NIOCore
public import Logging
public import Prometheus
public import ServiceLifecycle

/// An HTTP server with only the observability endpoints (``ObservabilityRoutes``), for the
/// processes that serve no other HTTP: coordinator, finalizer, reenqueuer, worker.
///
/// Run it in the process's `ServiceGroup` after the database pool (so it stops before it):
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()
/// MetricsSystem.bootstrap(TaskerMetricsFactory(registry: registry))
/// let server = ObservabilityServer(
///     configuration: .init(host: "0.0.0.0", port: 9464), registry: registry,
///     readiness: [ReadinessCheck(name: "database") { database.isReady }], logger: logger)
/// ```
public struct ObservabilityServer: Service {
    /// Where the server listens.
    public struct Configuration: Sendable {
        /// The address to bind; `0.0.0.0` for every interface (containers), `127.0.0.1` for loopback only.
        public var host: String
        /// The port; 0 picks a free one (reported to `onListening`).
        public var port: Int

        public init(host: String = "0.0.0.0", port: Int) {
            self.host = host
            self.port = port
        }
    }

    public let configuration: Configuration
    public let routes: ObservabilityRoutes
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - onListening: Called with the bound port once the server accepts connections.
    public init(
        configuration: Configuration, registry: PrometheusCollectorRegistry, readiness: [ReadinessCheck], logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.routes = ObservabilityRoutes(registry: registry, readiness: readiness)
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let router = Router()
        routes.register(on: router)
        let port = configuration.port
        let logger = self.logger
        let onListening = self.onListening
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("observability endpoints listening", metadata: ["http.port": "\(bound)"])
                await onListening(bound)
            },
            logger: logger
        )
        try await application.run()
    }
}
