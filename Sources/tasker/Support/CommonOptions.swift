import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TaskerPostgres

/// Where PostgreSQL is: `--database-url`, else `DATABASE_URL`, else `POSTGRES_*` variables.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL, postgres://user:password@host:port/db (env DATABASE_URL).")
    var databaseURL: String?

    func configuration() throws -> DatabaseConfiguration {
        if let databaseURL { return try DatabaseConfiguration(url: databaseURL) }
        return try DatabaseConfiguration.fromEnvironment()
    }

    /// A database pool for a service, with the call deadline from `TASKER_DATABASE_TIMEOUT_SECONDS`
    /// (default 15); run it in the service group before the services that use it.
    func makeDatabase(logger: Logger) throws -> Database {
        let seconds = ProcessInfo.processInfo.environment["TASKER_DATABASE_TIMEOUT_SECONDS"].flatMap(Double.init) ?? 15
        guard seconds > 0 else { throw ValidationError("TASKER_DATABASE_TIMEOUT_SECONDS must be positive") }
        return Database(configuration: try configuration(), logger: logger, callTimeout: .milliseconds(Int64(seconds * 1_000)))
    }

    /// Runs `body` with a running database pool.
    func withDatabase<T: Sendable>(logger: Logger, _ body: @Sendable (Database) async throws -> T) async throws -> T {
        let database = try makeDatabase(logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
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
