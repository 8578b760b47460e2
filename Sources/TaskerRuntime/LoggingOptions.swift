public import ArgumentParser
import Foundation
public import Logging
import Synchronization

/// `--log-level` (env `LOG_LEVEL`, default `info`): what every Tasker process shares.
///
/// ```swift
/// @OptionGroup var logging: LoggingOptions
/// let logger = logging.makeLogger(label: "tasker.worker")
/// ```
public struct LoggingOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (env LOG_LEVEL).")
    public var logLevel: String?

    public init() {}

    /// The level from `--log-level`, else `LOG_LEVEL`, else `info`.
    public var level: Logger.Level { level(default: .info) }

    /// The level from `--log-level`, else `LOG_LEVEL`, else `fallback`.
    public func level(default fallback: Logger.Level) -> Logger.Level {
        (logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? fallback
    }

    /// Bootstraps swift-log once for the process (a stream handler on standard error) and
    /// returns a logger with `label` at the chosen level.
    /// - Parameter fallback: The level when neither is set: `info` for services; one-shot
    ///   commands pass `warning`, so their output is their answer, not the client's progress.
    public func makeLogger(label: String, default fallback: Logger.Level = .info) -> Logger {
        let level = level(default: fallback)
        LoggingBootstrap.once(level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Bootstraps swift-log at most once per process.
enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(level: Logger.Level) {
        let first = done.withLock { value in
            defer { value = true }
            return !value
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
