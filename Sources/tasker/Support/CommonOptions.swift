import ArgumentParser
import Foundation
import Synchronization
import Logging
import PostgresNIO
import TaskerPostgres

/// Options every command shares: logging.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (env LOG_LEVEL).")
    var logLevel: String?

    /// Bootstraps swift-log once for the process and returns the command's logger.
    func makeLogger(label: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info") ?? .info
        LoggingBootstrap.once(level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

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

/// Where PostgreSQL is: `--database-url`, else `DATABASE_URL`, else `POSTGRES_*` variables.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL, postgres://user:password@host:port/db (env DATABASE_URL).")
    var databaseURL: String?

    func configuration() throws -> DatabaseConfiguration {
        if let databaseURL { return try DatabaseConfiguration(url: databaseURL) }
        return try DatabaseConfiguration.fromEnvironment()
    }

    /// Runs `body` with a running PostgreSQL client.
    func withClient<T: Sendable>(logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = try configuration().makeClient(logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
