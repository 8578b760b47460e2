internal import Logging
internal import TaskerCore
internal import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerPostgres
internal import TaskerWire

/// What the coordinator, the finalizer and the reenqueuer share: their settings, logger and
/// store, and their start-up and shut-down.
///
/// ``run(consuming:prefetch:prepare:_:)`` does, in order: waits for the database (retrying
/// for up to ``PipelineConfiguration/startupTimeout``), runs the service's own preparation,
/// opens the publishing connection (`tasker-<role>-publish`, waiting for the broker the same
/// way) and declares the whole topology on it, opens the consuming connection
/// (`tasker-<role>-consume`), starts consuming the service's queue and logs `<role> started`.
/// Then the service's body runs until it returns (on graceful shutdown); both connections are
/// closed and `<role> stopped` is logged.
///
/// ```swift
/// let bootstrap = ServiceBootstrap(role: "finalizer", database: database, configuration: configuration, logger: logger)
/// try await bootstrap.run(consuming: configuration.topology.resultsQueue, prefetch: configuration.batchPrefetch) { wire, deliveries in
///     await BatchedConsumption.run(deliveries, maxBatch: 200, lanes: 2, logger: logger) { batch in … }
/// }
/// ```
struct ServiceBootstrap: Sendable {
    /// `coordinator`, `finalizer` or `reenqueuer`: names the connections and the log lines.
    let role: String
    let database: Database
    let configuration: PipelineConfiguration
    let logger: Logger
    let store: PostgresStore

    init(role: String, database: Database, configuration: PipelineConfiguration, logger: Logger) {
        self.role = role
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.store = PostgresStore(
            database: database, topology: configuration.topology, events: configuration.lifecycleEvents,
            clock: configuration.clock, logger: logger)
    }

    /// Starts the service, runs `body` with a publisher on the publishing connection and the
    /// consumer of `queue`, and stops it.
    /// - Parameters:
    ///   - queue: The queue the service consumes.
    ///   - prefetch: The consumer's prefetch count.
    ///   - prepare: Runs once the database is reachable, before the broker connections open.
    ///   - body: The service's work; returning from it stops the service.
    func run(
        consuming queue: String,
        prefetch: UInt16,
        isolation: isolated (any Actor)? = #isolation,
        prepare: () async throws -> Void = {},
        _ body: (WirePublisher, AMQPConsumer) async throws -> Void
    ) async throws {
        PipelineMetrics.prime(consuming: queue)
        try await database.waitUntilReachable(timeout: configuration.startupTimeout)
        try await prepare()
        let topology = configuration.topology
        try await AMQPConnection.withConnection(configuration: configuration.named("tasker-\(role)-publish"), logger: logger) { publisher in
            try await TaskerTopology.declare(on: publisher, topology: topology, namespaces: [])
            try await AMQPConnection.withConnection(configuration: configuration.named("tasker-\(role)-consume"), logger: logger) { consumer in
                let deliveries = try await consumer.consume(queue: queue, prefetch: prefetch)
                logger.info("\(role) started", metadata: ["amqp.queue": "\(queue)"])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await store.flushPublishedOutboxUntilCancelled() }
                    defer { group.cancelAll() }
                    try await body(WirePublisher(connection: publisher, topology: topology), deliveries)
                }
                try? await store.flushPublishedOutbox()
            }
        }
        logger.info("\(role) stopped")
    }
}

/// A service started by a ``ServiceBootstrap``; its settings, logger and store come from there.
protocol BootstrappedService: Service {
    var bootstrap: ServiceBootstrap { get }
}

extension BootstrappedService {
    var configuration: PipelineConfiguration { bootstrap.configuration }
    var logger: Logger { bootstrap.logger }
    var store: PostgresStore { bootstrap.store }
}
