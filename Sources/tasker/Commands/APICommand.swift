import ArgumentParser
import Foundation
import Logging
import TaskerAMQP
import TaskerAPI
import TaskerCore
import TaskerObservability
import TaskerServices
import TaskerRuntime
import TaskerPostgres

/// `tasker api`: the HTTP API (docs/api.md) and the web dashboard under `/ui` (docs/dashboard.md); `tasker api key`: a new API key.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Run the HTTP API (the default), or make an API key.",
        subcommands: [Serve.self, Key.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run the HTTP API. Refuses to start without API keys or a JWT secret unless --insecure-open is given."
        )
        @OptionGroup var logging: LoggingOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var service: ServiceOptions
        @OptionGroup var observability: ObservabilityOptions

        @Option(help: "Address to listen on (env TASKER_API_HOST, default 127.0.0.1).")
        var host: String?

        @Option(help: "Port to listen on (env TASKER_API_PORT, default 8080).")
        var port: Int?

        @Flag(help: "Serve requests without credentials, with every scope (env TASKER_API_INSECURE_OPEN=true). Never in production.")
        var insecureOpen = false

        func run() async throws {
            let logger = logging.makeLogger(label: "tasker.api")
            let environment = ProcessInfo.processInfo.environment
            let authenticator: Authenticator
            do {
                authenticator = try Authenticator.configured(environment: environment, insecureOpen: insecureOpen)
            } catch let error as AuthConfigurationError {
                logger.critical("the API does not start: \(error)")
                throw ExitCode.failure
            }
            let resolvedPort = try port ?? EnvironmentSetting.integer("TASKER_API_PORT", in: environment, atLeast: 0) ?? 8080
            guard (0...65_535).contains(resolvedPort) else { throw CommandFailure("the port must be from 0 to 65535, not \(resolvedPort)") }
            let configuration = APIServerConfiguration(
                host: host ?? environment["TASKER_API_HOST"] ?? "127.0.0.1", port: resolvedPort, authenticator: authenticator,
                pipeline: try service.pipeline())
            let pool = try database.makeDatabase(logger: logger)
            let pipeline = configuration.pipeline
            if observability.checkConfig {
                print("tasker.api: configuration accepted; listening on \(configuration.host):\(configuration.port), database \(pool.configuration), "
                    + "broker \(pipeline.amqp.endpointList), prefix \(pipeline.topology.prefix), \(try observability.summary())")
                return
            }
            let server = try APIServer(
                configuration: configuration, database: pool,
                makeActions: { broker in
                    OperatorActions(
                        database: pool, connection: broker.publishingConnection,
                        configuration: .init(topology: pipeline.topology, events: pipeline.lifecycleEvents, clock: pipeline.clock),
                        logger: logger)
                },
                logger: logger,
                extendRouter: { router, dependencies in
                    // The web dashboard under /ui (docs/dashboard.md).
                    Dashboard.register(
                        on: router, dependencies: dependencies, authenticator: authenticator,
                        configuration: .forHost(configuration.host, environment: environment))
                })
            let endpoints = try observability.services(
                readiness: [ReadinessCheck(name: "database") { pool.isReady }],  // the API serves its own /health/ready (database and broker)
                logger: logger)
            try await ServiceRunner.run([pool] + endpoints + [server], logger: logger)
        }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Make a new API key: prints the key (once; it is not stored) and the line to configure it with."
        )
        @Option(help: "The key's name (who uses it): recorded as the actor of operator actions.")
        var name: String

        @Option(help: "Comma-separated scopes (tasks:read, tasks:write, tasks:operate, templates:read, dlq:operate) or *.")
        var scopes: String

        func run() throws {
            let parsed: Set<APIScope>
            do {
                parsed = try APIScope.parseList(scopes)
                _ = try APIKeyring.parse("\(name) sha256:\(String(repeating: "0", count: 64)) \(scopes)", source: "--name/--scopes")
            } catch let error as AuthConfigurationError {
                throw ValidationError(error.description)
            }
            let (key, entry) = APIKeyring.generate(name: name, scopes: parsed)
            print("key:   \(key)")
            print("entry: \(entry.line)")
            print("Give the key to its user; put the entry in TASKER_API_KEYS (entries separated by ';') or in the file TASKER_API_KEYS_FILE names.")
        }
    }
}
