import Crypto
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TaskerAMQP
import TaskerAPI
import TaskerCore
import TaskerExamples
import TaskerPostgres
import TaskerServices
import TaskerTestSupport
import TaskerWire
import TaskerWorker

/// The API keys the harness configures, one per set of scopes.
struct TestKeys: Sendable {
    var reader: String
    var writer: String
    var operator_: String
    var templates: String
    var deadLetters: String
    var admin: String

    static func make() -> (TestKeys, [APIKeyEntry]) {
        let reader = APIKeyring.generate(name: "reader", scopes: [.tasksRead])
        let writer = APIKeyring.generate(name: "writer", scopes: [.tasksWrite, .tasksRead])
        let operator_ = APIKeyring.generate(name: "operator", scopes: [.tasksOperate])
        let templates = APIKeyring.generate(name: "templates", scopes: [.templatesRead])
        let deadLetters = APIKeyring.generate(name: "dlq", scopes: [.dlqOperate])
        let admin = APIKeyring.generate(name: "admin", scopes: Set(APIScope.all))
        let keys = TestKeys(
            reader: reader.key, writer: writer.key, operator_: operator_.key, templates: templates.key, deadLetters: deadLetters.key,
            admin: admin.key)
        return (keys, [reader.entry, writer.entry, operator_.entry, templates.entry, deadLetters.entry, admin.entry])
    }
}

/// A running API server on a free loopback port, on its own topology prefix and template
/// namespace, against the real PostgreSQL and RabbitMQ; optionally with a whole pipeline
/// (coordinator, finalizer, reenqueuer, a worker) so submitted tasks run.
struct APIHarness: Sendable {
    let client: HTTPTestClient
    let keys: TestKeys
    let jwtSecret: [UInt8]
    let namespace: String
    let topology: WireTopology
    let amqp: AMQPConfiguration
    let database: Database
    let router: @Sendable () -> [String]
    let logger: Logger

    struct Options: Sendable {
        /// Run the coordinator, finalizer, reenqueuer and a worker too.
        var pipeline = true
        var actions: (any TaskActionPerforming)?
        /// Serve the real operator actions (`OperatorActions`), as `tasker api` does.
        var operatorActions = false
        var open = false
        /// Routes outside `/v1` (``APIServer`` `extendRouter`).
        var extendRouter: @Sendable (Router<APIRequestContext>, APIDependencies) -> Void = { _, _ in }
    }

    /// A template whose identity is the caller's idempotency key.
    static let keyedTemplate = """
        name: keyed
        namespace: NAMESPACE
        version: 1.0.0
        identity_strategy: caller_provided
        steps:
          - { name: only, handler: square }
        """

    static func run<T: Sendable>(_ options: Options = .init(), _ body: @Sendable (APIHarness) async throws -> T) async throws -> T {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let topology = WireTopology(prefix: "apitest-\(suffix)")
        let namespace = "api_\(suffix)"
        let logger = testLogger
        let pool = Database(configuration: try DatabaseConfiguration.fromEnvironment(), logger: logger, probeInterval: .seconds(1))
        let amqp = try testAMQPConfiguration(name: "api-test")
        var pipeline = PipelineConfiguration(amqp: amqp, topology: topology, concurrency: 4)
        pipeline.maintenanceIntervalSeconds = 0.5
        pipeline.sweeperGraceSeconds = 2
        let (keys, entries) = TestKeys.make()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
        let authenticator = Authenticator(keyring: APIKeyring(entries), jwt: try JWTVerifier(secret: secret), open: options.open)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let actionsConfiguration = OperatorActions.Configuration(
            topology: pipeline.topology, events: pipeline.lifecycleEvents, clock: pipeline.clock)
        let makeActions: @Sendable (BrokerLink) -> any TaskActionPerforming = { broker in
            OperatorActions(
                database: pool, connection: broker.publishingConnection, configuration: actionsConfiguration, logger: logger)
        }
        let server = try APIServer(
            configuration: APIServerConfiguration(host: "127.0.0.1", port: 0, authenticator: authenticator, pipeline: pipeline),
            database: pool, actions: options.actions,
            makeActions: options.operatorActions ? makeActions : nil,
            logger: logger, extendRouter: options.extendRouter,
            onListening: { portContinuation.yield($0) })
        var services: [any Service] = [server]
        if options.pipeline {
            services += [
                CoordinatorService(database: pool, configuration: pipeline, logger: logger),
                FinalizerService(database: pool, configuration: pipeline, logger: logger),
                ReenqueuerService(database: pool, configuration: pipeline, logger: logger),
                Self.worker(amqp: amqp, topology: topology, namespace: namespace, logger: logger),
            ]
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            try await pool.waitUntilReachable(timeout: .seconds(30))
            try await PostgresMigrator(client: pool.currentClient, logger: logger)
                .migrate(try Migration.load(from: packageRoot.appendingPathComponent("migrations")))
            try await registerTemplates(namespace: namespace, store: PostgresStore(database: pool, logger: logger))
            // Declare everything up front, so a message published before the services finish
            // starting is queued rather than unroutable.
            try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
                try await TaskerTopology.declare(on: connection, topology: topology, namespaces: [namespace])
            }
            let serviceGroup = ServiceGroup(services: services, logger: logger)
            let result: Result<T, any Error> = try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { try await serviceGroup.run() }
                let result: Result<T, any Error>
                do {
                    let port = try await withTimeout(.seconds(30), "the API to listen") {
                        var iterator = ports.makeAsyncIterator()
                        return await iterator.next() ?? 0
                    }
                    let harness = APIHarness(
                        client: HTTPTestClient(port: port), keys: keys, jwtSecret: secret, namespace: namespace, topology: topology,
                        amqp: amqp, database: pool, router: { server.makeRouter().routes.map { "\($0.method) \($0.path)" } },
                        logger: logger)
                    try await harness.waitUntilReady()
                    result = .success(try await body(harness))
                } catch {
                    result = .failure(error)
                }
                // Stop the way SIGTERM does, and wait for every service to end.
                await serviceGroup.triggerGracefulShutdown()
                try await running.waitForAll()
                return result
            }
            try? await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
                await deleteTopology(topology, namespaces: [namespace], on: connection)
            }
            return try result.get()
        }
    }

    static func worker(amqp: AMQPConfiguration, topology: WireTopology, namespace: String, logger: Logger) -> WorkerService {
        var configuration = WorkerService.Configuration(amqp: amqp)
        configuration.topology = topology
        configuration.namespaces = [namespace]
        configuration.concurrency = 8
        var registry = HandlerRegistry()
        ExampleHandlers.register(in: &registry)
        return WorkerService(configuration: configuration, registry: registry, logger: logger)
    }

    /// The reference templates (test environment) and ``keyedTemplate``, in `namespace`.
    static func registerTemplates(namespace: String, store: PostgresStore) async throws {
        let directory = packageRoot.appendingPathComponent("templates/examples")
        var texts: [String] = []
        for name in ["linear", "diamond", "tree", "mixed_dag", "api_integration"] {
            texts.append(try String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8))
        }
        texts.append(keyedTemplate)
        for text in texts {
            let yaml = text.replacingOccurrences(of: "namespace: examples", with: "namespace: \(namespace)")
                .replacingOccurrences(of: "NAMESPACE", with: namespace)
            try await store.registerTemplate(try TemplateLoader(environment: "test").load(yaml: yaml, file: "api-harness"))
        }
    }

    /// Waits for `/health/ready` to say 200.
    func waitUntilReady() async throws {
        try await eventually("the API to be ready", timeout: .seconds(30), every: .milliseconds(100)) {
            try await client.get("/health/ready", .none).status == 200
        }
    }

    /// Submits a task as the writer; returns the exchange.
    func submit(_ name: String, context: JSONValue, extra: [String: JSONValue] = [:]) async throws -> HTTPExchange {
        var body: [String: JSONValue] = ["namespace": .string(namespace), "name": .string(name), "context": context]
        body.merge(extra) { $1 }
        return try await client.post("/v1/tasks", .apiKey(keys.writer), json: .object(body))
    }

    /// Submits and returns the new task's id.
    func submitted(_ name: String, context: JSONValue, extra: [String: JSONValue] = [:]) async throws -> String {
        let exchange = try await submit(name, context: context, extra: extra)
        guard exchange.status == 201, let id = exchange.json?["task_id"]?.stringValue else {
            throw TestTimeout(description: "submission failed: \(exchange.status) \(String(decoding: exchange.body, as: UTF8.self))")
        }
        return id
    }

    /// Polls `GET /v1/tasks/{id}` until the task has finished; returns its JSON.
    func waitForTask(_ id: String, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        try await waitFor("task \(id) to finish", timeout: timeout, every: .milliseconds(100)) {
            let task = try await client.get("/v1/tasks/\(id)", .apiKey(keys.reader)).json
            let state = task?["state"]?.stringValue ?? ""
            return ["complete", "error", "cancelled", "resolved_manually"].contains(state) ? task : nil
        }
    }

    /// An HS256 JWT signed with the server's secret (or `secret`), with these claims.
    func jwt(_ claims: JSONValue, secret: [UInt8]? = nil, algorithm: String = "HS256") -> String {
        Self.jwt(claims, secret: secret ?? jwtSecret, algorithm: algorithm)
    }

    static func jwt(_ claims: JSONValue, secret: [UInt8], algorithm: String = "HS256") -> String {
        let header: JSONValue = ["alg": .string(algorithm), "typ": "JWT"]
        let signingInput = base64URL(header.canonicalData()) + "." + base64URL(claims.canonicalData())
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: secret))
        return signingInput + "." + base64URL(Data(signature))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
