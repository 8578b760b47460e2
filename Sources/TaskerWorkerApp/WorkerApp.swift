import ArgumentParser
public import Foundation
public import Logging
public import TaskerRuntime
public import TaskerWorker

/// The entry point of a worker executable: your handlers and templates, Tasker's worker.
///
/// ```swift
/// import TaskerWorkerApp
///
/// @main
/// struct OrderWorker {
///     static func main() async {
///         var handlers = HandlerRegistry()
///         handlers.register("validate_order", ValidateOrder())
///         await WorkerApp(handlers: handlers, templates: [templatesDirectory]).main()
///     }
/// }
/// ```
///
/// ``main()`` reads the same flags and environment variables as `tasker worker`
/// (``WorkerCommandLine``: `--amqp-url`/`AMQP_URL`, `--namespaces`, `--concurrency`,
/// `--prefix`, `--log-level`, ...), then at start:
///
/// 1. loads and validates the templates (the application's, or `--templates`); any invalid
///    template stops the start with every problem listed;
/// 2. with `--register-templates`, registers them through the ``templateStore``;
/// 3. checks that every step of those templates (and, with `--check-registered-templates`, of
///    the registered ones) in a served namespace has a handler here, and refuses to start
///    otherwise, naming each missing handler (`--skip-handler-check` starts anyway);
///
/// and then runs a ``WorkerService`` in a service group that drains gracefully on SIGTERM and
/// SIGINT (``ServiceRunner``). Steps log with `tasker.task.id` and `tasker.step.*` metadata.
public struct WorkerApp: Sendable {
    /// The handlers this worker runs.
    public var handlers: HandlerRegistry
    /// The application's own template files or directories (overridden by `--templates`).
    public var templates: [URL]
    /// Where templates are registered, for `--register-templates` and
    /// `--check-registered-templates` (nil: those flags are refused).
    public var templateStore: (any TemplateStore)?
    /// The namespaces served without `--namespaces`/`TASKER_NAMESPACES` (nil: those of the
    /// templates, else `default`).
    public var defaultNamespaces: [String]?
    /// The logger label.
    public var label: String

    /// Describes a worker; nothing happens until ``main()`` or ``run(_:)``.
    public init(
        handlers: HandlerRegistry,
        templates: [URL] = [],
        templateStore: (any TemplateStore)? = nil,
        defaultNamespaces: [String]? = nil,
        label: String = "tasker.worker"
    ) {
        self.handlers = handlers
        self.templates = templates
        self.templateStore = templateStore
        self.defaultNamespaces = defaultNamespaces
        self.label = label
    }

    /// Parses the process's arguments and runs the worker until SIGTERM/SIGINT; prints usage
    /// for `--help`, and the reason and a non-zero exit status for bad options or a refused start.
    public func main() async {
        let commandLine = WorkerProcessCommand.parseOrExit().options
        do {
            try await run(commandLine)
        } catch {
            WorkerProcessCommand.exit(withError: error)
        }
    }

    /// Runs the worker with parsed options until SIGTERM/SIGINT (what `tasker worker` calls).
    ///
    /// - Throws: ``WorkerStartupError`` when the start is refused, or what the worker ends with.
    public func run(_ commandLine: WorkerCommandLine) async throws {
        let logger = commandLine.logging.makeLogger(label: label)
        let worker = try await makeService(commandLine.worker, service: commandLine.service, logger: logger)
        try await ServiceRunner.run([worker], logger: logger)
    }

    /// Loads, registers and checks the templates, then builds the worker service without
    /// running it (for a process that runs other services beside it).
    ///
    /// - Throws: ``WorkerStartupError``.
    public func makeService(_ options: WorkerOptions, service: ServiceOptions, logger: Logger) async throws -> WorkerService {
        let check = try await startupCheck(options, logger: logger)
        let configuration = try configuration(options, service: service, namespaces: check.namespaces)
        return WorkerService(configuration: configuration, registry: handlers, logger: logger)
    }

    /// The worker's settings from its options, checked, for `namespaces`: what ``makeService(_:service:logger:)``
    /// runs with, and what `--check-config` checks without loading templates or connecting.
    ///
    /// - Throws: ``WorkerStartupError`` (`configuration`) for a concurrency, prefetch or result batch size out of range.
    public func configuration(_ options: WorkerOptions, service: ServiceOptions, namespaces: [String]) throws -> WorkerService.Configuration {
        var configuration = WorkerService.Configuration(amqp: try service.amqpConfiguration(name: "\(label)"))
        configuration.topology = service.topology
        configuration.namespaces = namespaces
        configuration.concurrency = service.resolvedConcurrency(default: 16)
        guard configuration.concurrency > 0 else {
            throw WorkerStartupError(code: .configuration, message: "--concurrency / TASKER_CONCURRENCY must be positive")
        }
        if let prefetch = options.resolvedPrefetch {
            guard prefetch >= configuration.concurrency, prefetch <= Int(UInt16.max) else {
                throw WorkerStartupError(
                    code: .configuration, message: "--prefetch / TASKER_WORKER_PREFETCH must be at least the concurrency (\(configuration.concurrency)) and at most 65535")
            }
            configuration.prefetch = prefetch
        }
        if let workerID = options.resolvedWorkerID { configuration.workerID = workerID }
        if let delay = options.startedReportDelay { configuration.startedReportDelay = delay }
        if let size = options.resolvedResultBatchSize {
            guard size > 0 else {
                throw WorkerStartupError(code: .configuration, message: "--result-batch-size / TASKER_RESULT_BATCH_SIZE must be positive")
            }
            configuration.resultBatchSize = size
        }
        return configuration
    }
}
