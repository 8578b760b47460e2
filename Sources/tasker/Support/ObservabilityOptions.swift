import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import TaskerAMQP
import TaskerObservability
import TaskerRuntime

/// `--metrics-port` / `TASKER_METRICS_PORT`: where a service serves `/metrics`,
/// `/health/live` and `/health/ready` (docs/operations.md, "Health and metrics"), and
/// `--check-config`, the dry run that checks a service's settings without connecting.
struct ObservabilityOptions: ParsableArguments {
    @Option(name: .long, help: "Port of /metrics, /health/live and /health/ready (env TASKER_METRICS_PORT; unset: no endpoint).")
    var metricsPort: Int?

    @Option(name: .long, help: "Address the metrics port binds (env TASKER_METRICS_HOST, default 0.0.0.0).")
    var metricsHost: String?

    @Flag(name: .long, help: "Check the options and environment, print the settings and exit without connecting.")
    var checkConfig = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The port, or `nil` when the endpoints are off.
    func resolvedPort() throws -> Int? {
        if let metricsPort { return try Self.checked(metricsPort) }
        guard let text = environment["TASKER_METRICS_PORT"], !text.isEmpty else { return nil }
        guard let port = Int(text) else { throw CommandFailure("TASKER_METRICS_PORT must be a port number, not '\(text)'") }
        return try Self.checked(port)
    }

    var host: String { metricsHost ?? environment["TASKER_METRICS_HOST"] ?? "0.0.0.0" }

    private static func checked(_ port: Int) throws -> Int {
        guard (0...65_535).contains(port) else { throw CommandFailure("the metrics port must be between 0 and 65535, not \(port)") }
        return port
    }

    /// The endpoint server of this process (none when no port is set). Bootstraps swift-metrics
    /// to Prometheus first, so call it before the services that record metrics are created.
    func services(readiness: [ReadinessCheck], logger: Logger) throws -> [any Service] {
        guard let port = try resolvedPort() else { return [] }
        let registry = MetricsBootstrap.registry()
        return [ObservabilityServer(configuration: .init(host: host, port: port), registry: registry, readiness: readiness, logger: logger)]
    }

    /// The line `--check-config` prints about the endpoints.
    func summary() throws -> String {
        guard let port = try resolvedPort() else { return "metrics and health endpoints off" }
        return "metrics and health endpoints on \(host):\(port)"
    }

    /// The readiness check of the broker connections: at least `connections` open and up,
    /// running at least `consumers` consumers between them.
    static func broker(connections: Int, consumers: Int) -> ReadinessCheck {
        ReadinessCheck(name: "broker") {
            ServiceOptions.connectionMonitor.isReady(minimumConnections: connections, minimumConsumers: consumers)
        }
    }
}

/// Bootstraps swift-metrics to Prometheus, once per process.
enum MetricsBootstrap {
    private static let shared = Mutex<PrometheusCollectorRegistry?>(nil)

    static func registry() -> PrometheusCollectorRegistry {
        shared.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(TaskerMetricsFactory(registry: created))
            registry = created
            return created
        }
    }
}
