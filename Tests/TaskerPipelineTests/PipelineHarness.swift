import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TaskerAMQP
import TaskerCore
import TaskerExamples
import TaskerPostgres
import TaskerServices
import TaskerTestSupport
import TaskerWire
import TaskerWorker

/// A whole pipeline (coordinator, finalizers, reenqueuer, workers) in this process, on its own
/// exchange/queue prefix and template namespace, against the real PostgreSQL and RabbitMQ.
struct PipelineHarness: Sendable {
    let topology: WireTopology
    let namespace: String
    let client: PostgresClient
    let store: PostgresStore
    let amqp: AMQPConfiguration
    let logger: Logger

    struct Options: Sendable {
        var finalizers = 1
        var workers = 1
        var workerConcurrency = 8
        var runWorkers = true
        /// Run the coordinator, finalizers and reenqueuer in this process (off: the test runs them).
        var runOrchestration = true
        /// Seconds past a step's deadline before the sweeper acts (large: the sweeper never acts).
        var sweeperGraceSeconds: Double = 2
        /// The deadline of every database call.
        var databaseTimeout: Duration = .seconds(15)
    }

    /// Runs `body` with the pipeline running; shuts it down gracefully afterwards.
    static func run<T: Sendable>(
        options: Options = .init(),
        extraTemplates: [String] = [],
        _ body: @Sendable (PipelineHarness) async throws -> T
    ) async throws -> T {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let topology = WireTopology(prefix: "test-\(suffix)")
        let namespace = "ns_\(suffix)"
        let logger = testLogger
        let database = try DatabaseConfiguration.fromEnvironment()
        let pool = Database(configuration: database, logger: logger, callTimeout: options.databaseTimeout, probeInterval: .seconds(1))
        let client = pool.currentClient
        let amqp = try AMQPConfiguration(url: testAMQPURL, connectionName: "pipeline-test")
        let harness = PipelineHarness(
            topology: topology, namespace: namespace, client: client, store: PostgresStore(database: pool, logger: logger),
            amqp: amqp, logger: logger)

        var pipeline = PipelineConfiguration(amqp: amqp, topology: topology, concurrency: 16)
        pipeline.sweeperGraceSeconds = options.sweeperGraceSeconds
        pipeline.maintenanceIntervalSeconds = 0.5
        var services: [any Service] = []
        if options.runOrchestration {
            services.append(CoordinatorService(database: pool, configuration: pipeline, logger: logger))
            services.append(ReenqueuerService(database: pool, configuration: pipeline, logger: logger))
            for _ in 0..<options.finalizers { services.append(FinalizerService(database: pool, configuration: pipeline, logger: logger)) }
        }
        if options.runWorkers {
            for _ in 0..<options.workers { services.append(harness.makeWorker(concurrency: options.workerConcurrency)) }
        }

        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            try await pool.waitUntilReachable(timeout: .seconds(30))  // the pool runs before the migrator uses it
            try await PostgresMigrator(client: client, logger: logger).migrate(try Migration.load(from: packageRoot.appendingPathComponent("migrations")))
            try await harness.registerTemplates(extra: extraTemplates)
            // Declare everything up front, so a request published before the services finish
            // starting is queued rather than unroutable.
            try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
                try await TaskerTopology.declare(on: connection, topology: topology, namespaces: [namespace])
            }
            let serviceGroup = ServiceGroup(services: services, logger: logger)
            group.addTask { try await serviceGroup.run() }
            let result: Result<T, any Error>
            do { result = .success(try await body(harness)) } catch { result = .failure(error) }
            await serviceGroup.triggerGracefulShutdown()
            await harness.deleteTopology()
            return try result.get()
        }
    }

    func makeWorker(concurrency: Int) -> WorkerService {
        var configuration = WorkerService.Configuration(amqp: amqp)
        configuration.topology = topology
        configuration.namespaces = [namespace]
        configuration.concurrency = concurrency
        var registry = HandlerRegistry()
        ExampleHandlers.register(in: &registry)
        return WorkerService(configuration: configuration, registry: registry, logger: logger)
    }

    /// The reference templates (test environment: short backoff), moved to this harness's namespace.
    func registerTemplates(extra: [String]) async throws {
        let directory = packageRoot.appendingPathComponent("templates/examples")
        var texts: [String] = []
        for name in ["linear", "diamond", "tree", "mixed_dag", "api_integration"] {
            texts.append(try String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8))
        }
        texts += extra
        for text in texts {
            let yaml = text.replacingOccurrences(of: "namespace: examples", with: "namespace: \(namespace)")
                .replacingOccurrences(of: "NAMESPACE", with: namespace)
            try await store.registerTemplate(try TemplateLoader(environment: "test").load(yaml: yaml, file: "harness"))
        }
    }

    /// Consumes, on `connection`, the lifecycle events of this harness's topology whose routing
    /// keys are `keys`, through a transient queue named after `name`.
    func consumeEvents(_ keys: [String], named name: String, on connection: AMQPConnection) async throws -> AMQPConsumer {
        let queue = "\(topology.prefix).\(name)"
        try await connection.declare(AMQPQueue(name: queue, type: .classic, durable: false, autoDelete: true))
        for key in keys { try await connection.bind(AMQPBinding(queue: queue, exchange: topology.eventsExchange, routingKey: key)) }
        return try await connection.consume(queue: queue, prefetch: 50)
    }

    /// Submits a request and returns the reply.
    func submit(_ name: String, context: JSONValue, key: String? = nil) async throws -> TaskRequestReply {
        try await submitAll([TaskRequest(namespace: namespace, name: name, context: context, idempotencyKey: key)])[0]
    }

    /// Submits many requests at once over one connection.
    func submitAll(_ requests: [TaskRequest]) async throws -> [TaskRequestReply] {
        let topology = self.topology
        return try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
            try await TaskRequestClient.withClient(connection: connection, topology: topology, logger: logger) { client in
                try await withThrowingTaskGroup(of: (Int, TaskRequestReply).self) { group in
                    for (index, request) in requests.enumerated() {
                        group.addTask { (index, try await client.submit(request)) }
                    }
                    var replies = [TaskRequestReply?](repeating: nil, count: requests.count)
                    for try await (index, reply) in group { replies[index] = reply }
                    return replies.map { $0! }
                }
            }
        }
    }

    /// Waits (polling the database, with a deadline) until the task has finished.
    ///
    /// A read that fails because the database is recovering (a missed deadline, a connection the
    /// restart or the pool's replacement closed: DatabaseRestartTests) is asked again, like any
    /// poll; the last such error is in the message if the task never finishes.
    func waitForTask(_ id: UUID, timeout: Duration = .seconds(60)) async throws -> TaskDetail {
        var last: TaskDetail?
        var lastError: (any Error)?
        do {
            return try await waitFor("task \(id) to finish", timeout: timeout, every: .milliseconds(50)) {
                do {
                    last = try await store.fetchTask(id)
                } catch let error where error is DatabaseTimeout || error is PSQLError {
                    lastError = error
                    return nil
                }
                return last.flatMap { $0.task.state.isFinished ? $0 : nil }
            }
        } catch let expired as TestTimeout {
            guard let last else { throw lastError.map { TestTimeout(description: "\(expired); last error: \(String(reflecting: $0))") } ?? expired }
            throw TestTimeout(description: "\(expired); still \(last.task.state.rawValue): "
                + last.steps.map { "\($0.name)=\($0.state.rawValue)" }.joined(separator: " "))
        }
    }

    /// Waits until `condition` holds for the task.
    func waitUntil(_ id: UUID, timeout: Duration = .seconds(30), _ condition: (TaskDetail) -> Bool) async throws -> TaskDetail {
        try await waitFor("condition met for task \(id)", timeout: timeout, every: .milliseconds(50)) {
            let detail = try await store.fetchTask(id)
            return condition(detail) ? detail : nil
        }
    }

    /// Deletes the exchanges and queues this harness declared.
    func deleteTopology() async {
        let topology = self.topology
        let namespace = self.namespace
        try? await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
            await TaskerTestSupport.deleteTopology(topology, namespaces: [namespace], on: connection)
        }
    }
}

/// The reference "square" semantics, computed independently of the handlers.
enum ExpectedResults {
    static let prime: Int64 = 1_000_000_007

    /// Each step's expected `value` for a template and its root input.
    static func values(for template: TaskTemplate, rootInput: (StepTemplate) -> Int64) -> [String: Int64] {
        var values: [String: Int64] = [:]
        for index in template.graph.topologicalOrder {
            let step = template.steps[index]
            let input: Int64 = step.dependsOn.isEmpty
                ? rootInput(step) % prime
                : step.dependsOn.reduce(Int64(1)) { ($0 * values[$1]!) % prime }
            values[step.name] = (input * input) % prime
        }
        return values
    }
}
