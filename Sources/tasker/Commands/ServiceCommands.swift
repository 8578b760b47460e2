import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TaskerCore
import TaskerExamples
import TaskerPostgres
import TaskerServices
import TaskerWorker

/// Options and start-up shared by the three database-backed services.
struct OrchestrationServiceOptions: ParsableArguments {
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions

    /// Runs the PostgreSQL client and the service `make` builds until SIGTERM/SIGINT.
    func run(label: String, _ make: (Database, PipelineConfiguration, Logger) -> any Service) async throws {
        let logger = logging.makeLogger(label: label)
        let pool = try database.makeDatabase(logger: logger)
        try await ServiceRunner.run([pool, make(pool, try service.pipeline(), logger)], logger: logger)
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

/// Worker options.
struct WorkerOptions: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption, help: "Namespaces to serve (env TASKER_NAMESPACES, comma-separated; default: default examples).")
    var namespaces: [String] = []

    func resolvedNamespaces() -> [String] {
        if !namespaces.isEmpty { return namespaces.flatMap { $0.split(separator: ",").map(String.init) } }
        if let value = ProcessInfo.processInfo.environment["TASKER_NAMESPACES"], !value.isEmpty {
            return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return ["default", "examples"]
    }

    func configuration(service: ServiceOptions) throws -> WorkerService.Configuration {
        var configuration = WorkerService.Configuration(amqp: try service.amqpConfiguration(name: "tasker-worker"))
        configuration.topology = service.topology
        configuration.namespaces = resolvedNamespaces()
        configuration.concurrency = service.resolvedConcurrency(default: 16)
        if let milliseconds = ProcessInfo.processInfo.environment["TASKER_STARTED_REPORT_DELAY_MS"].flatMap(Int64.init), milliseconds >= 0 {
            configuration.startedReportDelay = .milliseconds(milliseconds)
        }
        return configuration
    }

    /// The handlers this binary ships: the reference examples.
    static func registry() -> HandlerRegistry {
        var registry = HandlerRegistry()
        ExampleHandlers.register(in: &registry)
        return registry
    }
}

/// `tasker worker`: runs step handlers; needs no database.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run a worker (no database needed).")
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker.worker")
        let configuration = try worker.configuration(service: service)
        try await ServiceRunner.run([WorkerService(configuration: configuration, registry: WorkerOptions.registry(), logger: logger)], logger: logger)
    }
}

/// `tasker run`: every service in one process, for development.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run coordinator, finalizer, reenqueuer and a worker in one process (migrates first)."
    )
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var worker: WorkerOptions

    @Option(help: "Register the templates in this directory at start.")
    var templates: String?

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker")
        if let directory = Migration.locateDirectory() {
            let files = try Migration.load(from: directory)
            _ = try await database.withClient(logger: logger) { client in
                try await PostgresMigrator(client: client, logger: logger).migrate(files)
            }
        }
        if let templates {
            let loaded = try TemplateFiles.load([templates], with: TemplateLoader(environment: ProcessInfo.processInfo.environment["TASKER_ENV"]))
            let valid = try loaded.map { try $0.result.get() }
            try await database.withDatabase(logger: logger) { database in
                let store = PostgresStore(database: database, logger: logger)
                for template in valid { try await store.registerTemplate(template) }
            }
        }
        let pool = try database.makeDatabase(logger: logger)
        let pipeline = try service.pipeline()
        try await ServiceRunner.run([
            pool,
            CoordinatorService(database: pool, configuration: pipeline, logger: logger),
            FinalizerService(database: pool, configuration: pipeline, logger: logger),
            ReenqueuerService(database: pool, configuration: pipeline, logger: logger),
            WorkerService(configuration: try worker.configuration(service: service), registry: WorkerOptions.registry(), logger: logger),
        ], logger: logger)
    }
}
