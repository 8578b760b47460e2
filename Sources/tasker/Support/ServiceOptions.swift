import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TaskerAMQP
import TaskerCore
import TaskerServices
import UnixSignals

/// Options of the long-running services.
struct ServiceOptions: ParsableArguments {
    @Option(name: .long, help: "RabbitMQ URL, amqp://user:password@host:port/vhost (env AMQP_URL).")
    var amqpURL: String?

    @Option(name: .long, help: "Prefix of every exchange and queue name (env TASKER_TOPOLOGY_PREFIX, default tasker).")
    var prefix: String?

    @Option(name: .long, help: "Messages handled at once per service (env TASKER_CONCURRENCY; coordinator and finalizer: batches in flight, default 2; workers: steps in flight, default 16).")
    var concurrency: Int?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func amqpConfiguration(name: String) throws -> AMQPConfiguration {
        let url = amqpURL ?? environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"
        var configuration = try AMQPConfiguration(url: url, connectionName: name)
        configuration.startupTimeout = startupTimeout
        return configuration
    }

    /// How long a service started during an outage waits for the broker and the database
    /// (env TASKER_STARTUP_TIMEOUT_SECONDS, default 300; 0: exit at the first failure).
    var startupTimeout: Duration {
        let seconds = environment["TASKER_STARTUP_TIMEOUT_SECONDS"].flatMap(Double.init) ?? 300
        return .milliseconds(Int64(max(seconds, 0) * 1_000))
    }

    var topology: WireTopology { WireTopology(prefix: prefix ?? environment["TASKER_TOPOLOGY_PREFIX"] ?? "tasker") }

    func resolvedConcurrency(default value: Int) -> Int {
        concurrency ?? environment["TASKER_CONCURRENCY"].flatMap(Int.init) ?? value
    }

    func pipeline() throws -> PipelineConfiguration {
        var configuration = PipelineConfiguration(amqp: try amqpConfiguration(name: "tasker"), topology: topology)
        configuration.concurrency = resolvedConcurrency(default: 2)
        if let size = environment["TASKER_BATCH_SIZE"].flatMap(Int.init), size > 0 { configuration.batchSize = size }
        if let grace = environment["TASKER_SWEEPER_GRACE_SECONDS"].flatMap(Double.init) { configuration.sweeperGraceSeconds = grace }
        if let raw = environment["TASKER_LIFECYCLE_EVENTS"] {
            guard let events = LifecycleEventSelection(rawValue: raw) else {
                throw ValidationError("TASKER_LIFECYCLE_EVENTS must be one of \(LifecycleEventSelection.allCases.map(\.rawValue)), not '\(raw)'")
            }
            configuration.lifecycleEvents = events
        }
        if let raw = environment["TASKER_LIFECYCLE_EVENTS"] {
            guard let events = LifecycleEventSelection(rawValue: raw) else {
                throw ValidationError("TASKER_LIFECYCLE_EVENTS must be one of \(LifecycleEventSelection.allCases.map(\.rawValue)), not '\(raw)'")
            }
            configuration.lifecycleEvents = events
        }
        configuration.startupTimeout = startupTimeout
        return configuration
    }
}

/// Runs services in one ServiceGroup that stops gracefully on SIGTERM and SIGINT.
///
/// Services shut down in reverse order (so list the database first: it stops last). A graceful
/// shutdown that takes longer than `TASKER_SHUTDOWN_DRAIN_SECONDS` (default 25) is escalated to
/// cancellation, and cancellation that takes longer than 5 s more ends the process: SIGTERM
/// always ends it, even if a dependency hangs.
enum ServiceRunner {
    static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        let drain = ProcessInfo.processInfo.environment["TASKER_SHUTDOWN_DRAIN_SECONDS"].flatMap(Double.init) ?? 25
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(max(drain, 0) * 1_000))
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}
