import Foundation
import PostgresNIO
import TaskerCore
import TaskerPostgres
import TaskerTestSupport

/// Runs `body` with a store on the test database (`DATABASE_URL` / `POSTGRES_*`), migrated.
func withStore<T: Sendable>(
    database: String? = nil,
    _ body: @Sendable (PostgresStore) async throws -> T
) async throws -> T {
    var configuration = try DatabaseConfiguration.fromEnvironment()
    if let database { configuration.database = database }
    let pool = Database(configuration: configuration, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await pool.run() }
        defer { group.cancelAll() }
        let migrations = try Migration.load(from: TestPaths.migrations)
        try await pool.waitUntilReachable(timeout: .seconds(30))  // the pool runs before the migrator uses it
        try await PostgresMigrator(client: pool.currentClient, logger: testLogger).migrate(migrations)
        return try await body(PostgresStore(database: pool, logger: testLogger))
    }
}

extension PostgresStore {
    /// The pool's postgres-nio client, for tests that inspect rows directly.
    var client: PostgresClient { database.currentClient }
}

/// Runs `body` with a client connected to a brand-new database, dropped afterwards.
func withFreshDatabase<T: Sendable>(_ body: @Sendable (PostgresClient, String) async throws -> T) async throws -> T {
    let name = "tasker_test_\(UUID().uuidString.prefix(8).lowercased())"
    let admin = try DatabaseConfiguration.fromEnvironment()
    let adminClient = admin.makeClient(logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await adminClient.run() }
        defer { group.cancelAll() }
        try await adminClient.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
        var configuration = admin
        configuration.database = name
        let client = configuration.makeClient(logger: testLogger)
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { inner in
            inner.addTask { await client.run() }
            defer { inner.cancelAll() }
            do { return .success(try await body(client, name)) } catch { return .failure(error) }
        }
        try await adminClient.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: testLogger)
        return try result.get()
    }
}

enum TestPaths {
    static let migrations = packageRoot.appendingPathComponent("migrations")
    static let examples = packageRoot.appendingPathComponent("templates/examples")
}

/// A template unique to one test, so tests never share rows.
func uniqueTemplate(_ yaml: String = "", file: String = #function) throws -> TaskTemplate {
    let namespace = "t_" + UUID().uuidString.prefix(8).lowercased()
    let text = yaml.isEmpty ? """
        name: diamond
        namespace: \(namespace)
        version: 1.0.0
        steps:
          - { name: start, handler: square }
          - { name: branch_b, handler: square, depends_on: [start] }
          - { name: branch_c, handler: square, depends_on: [start] }
          - { name: end, handler: square, depends_on: [branch_b, branch_c] }
        """ : yaml.replacingOccurrences(of: "NAMESPACE", with: namespace)
    return try TemplateLoader().load(yaml: text, file: file)
}

/// A template of two roots with their own timeouts, `quick` (5 s) and `slow` (100 s), and with
/// `join` a step that depends on both, in a namespace of its own.
func twoRootsTemplate(join: Bool = false, file: String = #function) throws -> TaskTemplate {
    try uniqueTemplate("""
        name: two_roots
        namespace: NAMESPACE
        version: 1.0.0
        steps:
          - { name: quick, handler: square, timeout_seconds: 5 }
          - { name: slow, handler: square, timeout_seconds: 100 }
        """ + (join ? "\n  - { name: join, handler: square, depends_on: [quick, slow] }" : ""), file: file)
}

func plan(_ template: TaskTemplate, context: JSONValue = ["even_number": 2], key: String? = nil) throws -> TaskPlan {
    try TaskPlanner.plan(
        TaskRequest(namespace: template.namespace, name: template.name, context: context, idempotencyKey: key),
        template: template,
        makeID: { UUID() }
    )
}
