import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TaskerAMQP
import TaskerCore
import TaskerExamples
import TaskerObservability
import TaskerPostgres
import TaskerServices
import TaskerRuntime
import TaskerWorker
import TaskerWorkerApp
import TaskerWorkerPostgres

/// Options and start-up shared by the three database-backed services.
struct OrchestrationServiceOptions: ParsableArguments {
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var observability: ObservabilityOptions

    /// Runs the PostgreSQL client, the observability endpoints (if a port is set) and the
    /// service `make` builds until SIGTERM/SIGINT; with `--check-config`, only checks the settings.
    func run(label: String, _ make: (Database, PipelineConfiguration, Logger) -> any Service) async throws {
        let logger = logging.makeLogger(label: label)
        let pool = try database.makeDatabase(logger: logger)
        let pipeline = try service.pipeline()
        if observability.checkConfig {
            print("\(label): configuration accepted; database \(pool.configuration), broker \(pipeline.amqp.endpointList), "
                + "prefix \(pipeline.topology.prefix), \(try observability.summary())")
            return
        }
        let tracing = try TracingBootstrap.services(serviceName: label, logger: logger)
        let endpoints = try observability.services(
            readiness: [ReadinessCheck(name: "database") { pool.isReady }, ObservabilityOptions.broker(connections: 2, consumers: 1)],
            logger: logger)
        try await ServiceRunner.run(tracing + [pool] + endpoints + [make(pool, pipeline, logger)], logger: logger)
    }
}

/// `tasker coordinator`: turns task requests into running tasks.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator", abstract: "Run the coordinator service.")
    @OptionGroup var options: OrchestrationServiceOptions

    func run() async throws {
        try await options.run(label: "tasker.coordinator") { CoordinatorService(database: $0, configuration: $1, logger: $2) }
    }
}

/// `tasker finalizer`: records step results and moves tasks forward.
struct FinalizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "finalizer", abstract: "Run the finalizer service.")
    @OptionGroup var options: OrchestrationServiceOptions

    func run() async throws {
        try await options.run(label: "tasker.finalizer") { FinalizerService(database: $0, configuration: $1, logger: $2) }
    }
}

/// `tasker reenqueuer`: runs retries on time, sweeps expired attempts, relays the outbox.
struct ReenqueuerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reenqueuer", abstract: "Run the reenqueuer service.")
    @OptionGroup var options: OrchestrationServiceOptions

    func run() async throws {
        try await options.run(label: "tasker.reenqueuer") { ReenqueuerService(database: $0, configuration: $1, logger: $2) }
    }
}

/// The handlers the `tasker` binary ships: the reference examples (`square`, `noop`, `sleep`).
enum ExampleWorker {
    static func registry() -> HandlerRegistry {
        var registry = HandlerRegistry()
        ExampleHandlers.register(in: &registry)
        return registry
    }

    /// `tasker worker` is a ``WorkerApp`` like any application's worker: same options, same
    /// start-up checks; it serves `default` and `examples` unless told otherwise.
    static let app = WorkerApp(
        handlers: registry(),
        templateStore: PostgresTemplateStore(),
        defaultNamespaces: ["default", "examples"],
        label: "tasker.worker"
    )
}

/// `tasker worker`: runs step handlers; needs no database.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker with the example handlers (no database needed; see docs/worker.md to run your own)."
    )
    @OptionGroup var options: WorkerCommandLine
    @OptionGroup var observability: ObservabilityOptions

    func run() async throws {
        let app = ExampleWorker.app
        guard !observability.checkConfig else {
            let configuration = try app.configuration(
                options.worker, service: options.service, namespaces: options.worker.resolvedNamespaces(fallback: ["default"]))
            print("\(app.label): configuration accepted; broker \(configuration.amqp.endpointList), prefix \(configuration.topology.prefix), "
                + "\(try observability.summary())")
            return
        }
        let logger = options.logging.makeLogger(label: app.label)
        let tracing = try TracingBootstrap.services(serviceName: app.label, logger: logger)
        // The endpoints first: they bootstrap the metrics before the worker creates its instruments.
        let endpoints = try observability.services(readiness: [ObservabilityOptions.broker(connections: 2, consumers: 1)], logger: logger)
        let worker = try await app.makeService(options.worker, service: options.service, logger: logger)
        try await ServiceRunner.run(tracing + endpoints + [worker], logger: logger)
    }
}

/// `tasker run`: every service in one process, for development.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run coordinator, finalizer, reenqueuer and a worker in one process (migrates first, registers --templates)."
    )
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker")
        if let directory = Migration.locateDirectory() {
            let files = try Migration.load(from: directory)
            _ = try await database.withClient(logger: logger) { client in
                try await PostgresMigrator(client: client, logger: logger).migrate(files)
            }
        }
        let paths = worker.resolvedTemplatePaths(fallback: [])
        if !paths.isEmpty {
            let valid = try TemplateFiles.loadValid(paths, with: TemplateLoader(environment: worker.resolvedTemplateEnvironment))
            try await database.withDatabase(logger: logger) { database in
                let store = PostgresStore(database: database, logger: logger)
                for template in valid { try await store.registerTemplate(template) }
            }
        }
        let workerService = try await ExampleWorker.app.makeService(worker, service: service, logger: logger)
        let pool = try database.makeDatabase(logger: logger)
        let pipeline = try service.pipeline()
        try await ServiceRunner.run([
            pool,
            CoordinatorService(database: pool, configuration: pipeline, logger: logger),
            FinalizerService(database: pool, configuration: pipeline, logger: logger),
            ReenqueuerService(database: pool, configuration: pipeline, logger: logger),
            workerService,
        ], logger: logger)
    }
}
