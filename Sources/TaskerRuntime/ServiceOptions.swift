public import ArgumentParser
import Foundation
public import TaskerAMQP
public import TaskerCore

/// The broker options every long-running Tasker process shares: `--amqp-url`, `--prefix`,
/// `--concurrency`, and the start-up timeout.
///
/// Flags win over environment variables, which win over the defaults
/// (docs/configuration.md lists every variable).
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "RabbitMQ URL, amqp://user:password@host:port/vhost (env AMQP_URL).")
    public var amqpURL: String?

    @Option(name: .long, help: "Prefix of every exchange and queue name (env TASKER_TOPOLOGY_PREFIX, default tasker).")
    public var prefix: String?

    @Option(
        name: .long,
        help: "Messages handled at once per service (env TASKER_CONCURRENCY; coordinator and finalizer: batches in flight, default 2; workers: handlers running at once, default 16)."
    )
    public var concurrency: Int?

    public init() {}

    /// Every broker connection this process opens with ``amqpConfiguration(name:)`` reports to
    /// this monitor, so the process can answer readiness probes (docs/operations.md, "Health and metrics").
    public static let connectionMonitor = AMQPConnectionMonitor()

    /// The process environment (read at each call, so tests may set variables first).
    public var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The broker to connect to (`--amqp-url`, else `AMQP_URL`, else the private ops broker),
    /// with `name` as the connection name and the start-up timeout applied.
    public func amqpConfiguration(name: String) throws -> AMQPConfiguration {
        let url = amqpURL ?? environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"
        var configuration = try AMQPConfiguration(url: url, connectionName: name)
        configuration.startupTimeout = startupTimeout
        configuration.monitor = Self.connectionMonitor
        return configuration
    }

    /// How long a service started during an outage waits for the broker and the database
    /// (env `TASKER_STARTUP_TIMEOUT_SECONDS`, default 300; 0: exit at the first failure).
    public var startupTimeout: Duration {
        let seconds = environment["TASKER_STARTUP_TIMEOUT_SECONDS"].flatMap(Double.init) ?? 300
        return .milliseconds(Int64(max(seconds, 0) * 1_000))
    }

    /// Exchange and queue names (`--prefix`, else `TASKER_TOPOLOGY_PREFIX`, else `tasker`).
    public var topology: WireTopology { WireTopology(prefix: prefix ?? environment["TASKER_TOPOLOGY_PREFIX"] ?? "tasker") }

    /// `--concurrency`, else `TASKER_CONCURRENCY`, else `value`.
    public func resolvedConcurrency(default value: Int) -> Int {
        concurrency ?? environment["TASKER_CONCURRENCY"].flatMap(Int.init) ?? value
    }
}
