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
        let seconds = try EnvironmentSetting.seconds(
            "TASKER_DATABASE_TIMEOUT_SECONDS", in: ProcessInfo.processInfo.environment, positive: true) ?? 15
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
        // An immediate task enters run() on this thread, so the pool runs before `body` leases
        // from it (postgres-nio warns about a lease before run(), as `Database` avoids too).
        let runner = Task.immediate { await client.run() }
        defer { runner.cancel() }
        return try await body(client)
    }
}
