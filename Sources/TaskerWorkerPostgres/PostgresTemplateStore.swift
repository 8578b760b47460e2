import Foundation
public import Logging
public import TaskerCore
import TaskerPostgres
public import TaskerWorkerApp

/// The ``TemplateStore`` of Tasker's PostgreSQL database: registers templates and reads the
/// registered ones, the same way `tasker templates register` and the coordinator do.
///
/// It connects only when a worker uses it (`--register-templates`,
/// `--check-registered-templates`), for the duration of that call, so a worker that uses
/// neither stays database-free. The database is `DATABASE_URL`, else the `POSTGRES_*`
/// variables (docs/configuration.md); it waits for an unreachable database up to
/// `TASKER_STARTUP_TIMEOUT_SECONDS` (default 300).
///
/// ```swift
/// await WorkerApp(handlers: handlers, templates: [templates], templateStore: PostgresTemplateStore()).main()
/// ```
public struct PostgresTemplateStore: TemplateStore {
    /// The database URL; nil: `DATABASE_URL`, else the `POSTGRES_*` variables, read when used.
    public var databaseURL: String?

    public init(databaseURL: String? = nil) {
        self.databaseURL = databaseURL
    }

    public func register(_ templates: [TaskTemplate], logger: Logger) async throws -> [(key: TemplateKey, created: Bool)] {
        try await withStore(logger: logger) { store in
            var outcomes: [(key: TemplateKey, created: Bool)] = []
            for template in templates {
                outcomes.append((template.key, try await store.registerTemplate(template).created))
            }
            return outcomes
        }
    }

    public func registeredTemplates(logger: Logger) async throws -> [TaskTemplate] {
        try await withStore(logger: logger) { store in try await store.loadTemplates() }
    }

    /// Runs `body` with a store on a running pool that is stopped afterwards.
    private func withStore<T: Sendable>(logger: Logger, _ body: @Sendable (PostgresStore) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try databaseURL.map { try DatabaseConfiguration(url: $0) } ?? DatabaseConfiguration.fromEnvironment(environment)
        let database = Database(configuration: configuration, logger: logger)
        let startup = environment["TASKER_STARTUP_TIMEOUT_SECONDS"].flatMap(Double.init) ?? 300
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            try await database.waitUntilReachable(timeout: .milliseconds(Int64(max(startup, 0) * 1_000)))
            return try await body(PostgresStore(database: database, logger: logger))
        }
    }
}
