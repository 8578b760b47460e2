public import Logging
public import PostgresNIO

/// Applies pending migrations, each in its own transaction, recorded in `tasker_schema_migrations`.
///
/// The whole run holds a PostgreSQL advisory lock, so several services starting at once
/// never race: the first applies, the others wait and then find nothing to do.
/// Running it again is a no-op.
public struct PostgresMigrator: Sendable {
    /// Arbitrary constant naming Tasker's migration lock.
    static let advisoryLockKey: Int64 = 0x7A5C_E401

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies what is pending from `migrations`; returns the versions it applied.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await applyPending(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    /// Versions recorded as applied, ascending.
    public func appliedVersions() async throws -> [Int] {
        try await client.withConnection { connection in
            try await ensureTable(on: connection)
            return try await appliedVersions(on: connection)
        }
    }

    private func ensureTable(on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS tasker_schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
    }

    private func appliedVersions(on connection: PostgresConnection) async throws -> [Int] {
        var versions: [Int] = []
        let rows = try await connection.query("SELECT version FROM tasker_schema_migrations ORDER BY version", logger: logger)
        for try await version in rows.decode(Int.self) { versions.append(version) }
        return versions
    }

    private func applyPending(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await ensureTable(on: connection)
        let done = Set(try await appliedVersions(on: connection))
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            logger.info("applying migration", metadata: ["tasker.migration.version": "\(migration.version)", "tasker.migration.name": "\(migration.name)"])
            try await connection.withTransaction(logger: logger) { transaction in
                for statement in SQLScript.statements(in: migration.sql) {
                    try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await transaction.query(
                    "INSERT INTO tasker_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
            }
            applied.append(migration.version)
        }
        return applied
    }
}
