internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// Read-only figures the metrics report (docs/operations.md, "Metrics").
extension PostgresStore {
    /// The outbox of this installation: rows (one per committed batch) not yet published, the
    /// messages they hold, and the age of the oldest row.
    public struct OutboxBacklog: Sendable, Equatable {
        public var rows: Int
        public var messages: Int
        public var oldestAgeSeconds: Double
    }

    /// What waits in this installation's outbox now.
    public func outboxBacklog() async throws -> OutboxBacklog {
        let rows = try await database.query(
            """
            SELECT count(*)::bigint, COALESCE(sum(cardinality(exchanges)), 0)::bigint,
                   COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
            FROM outbox_batches WHERE starts_with(exchanges[1], \(topology.prefix + "."))
            """)
        for row in rows {
            let (count, messages, age) = try row.decode((Int64, Int64, Double).self)
            return OutboxBacklog(rows: Int(count), messages: Int(messages), oldestAgeSeconds: max(0, age))
        }
        return OutboxBacklog(rows: 0, messages: 0, oldestAgeSeconds: 0)
    }

    /// The namespaces that have a registered template (each has a worker queue).
    public func templateNamespaces() async throws -> [String] {
        try await database.query("SELECT DISTINCT namespace FROM task_templates ORDER BY namespace").map { try $0.decode(String.self) }
    }
}
