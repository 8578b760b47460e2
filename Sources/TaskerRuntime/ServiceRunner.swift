import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals

/// Runs a process's services in one `ServiceGroup` that stops gracefully on SIGTERM and SIGINT,
/// within a bounded drain.
///
/// Services shut down in reverse order (so list a dependency such as the database first: it
/// stops last). A graceful shutdown that takes longer than `TASKER_SHUTDOWN_DRAIN_SECONDS`
/// (default 25) is escalated to cancellation, and cancellation that takes longer than 5 s more
/// ends the process: SIGTERM always ends it, even if a dependency hangs.
///
/// ```swift
/// try await ServiceRunner.run([database, coordinator], logger: logger)
/// ```
public enum ServiceRunner {
    /// The drain from `TASKER_SHUTDOWN_DRAIN_SECONDS` (default 25 s; negative values count as 0).
    public static var drain: Duration {
        let seconds = ProcessInfo.processInfo.environment["TASKER_SHUTDOWN_DRAIN_SECONDS"].flatMap(Double.init) ?? 25
        return .milliseconds(Int64(max(seconds, 0) * 1_000))
    }

    /// How long cancellation may take once the drain is over, before the process ends.
    public static let cancellationLimit: Duration = .seconds(5)

    /// Runs `services` until they end or the process gets SIGTERM/SIGINT.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = drain
        configuration.maximumCancellationDuration = cancellationLimit
        try await ServiceGroup(configuration: configuration).run()
    }
}
