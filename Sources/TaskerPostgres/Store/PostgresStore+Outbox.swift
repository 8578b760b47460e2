public import Foundation
internal import PostgresNIO
public import TaskerCore

/// An outbox row: a message committed with its state change, waiting to be published.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var message: OutboundMessage
}

extension PostgresStore {
    /// Writes messages to the outbox in the caller's transaction, in one statement.
    func insertOutbox(_ messages: [OutboundMessage], on connection: PostgresConnection) async throws -> [OutboxEntry] {
        guard !messages.isEmpty else { return [] }
        let ids = try await connection.query(
            """
            INSERT INTO outbox (exchange, routing_key, message_type, message_id, body)
            SELECT * FROM unnest(\(messages.map(\.exchange))::text[], \(messages.map(\.routingKey))::text[],
                                 \(messages.map(\.type))::text[], \(messages.map(\.messageID))::uuid[],
                                 \(messages.map { String(decoding: $0.body, as: UTF8.self) })::text[])
            RETURNING id
            """,
            logger: logger
        )
        var entries: [OutboxEntry] = []
        var index = 0
        for try await id in ids.decode(Int64.self) {
            entries.append(OutboxEntry(id: id, message: messages[index]))
            index += 1
        }
        return entries
    }

    /// Removes published rows.
    public func deleteOutbox(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        let logger = self.logger
        try await database.withConnection { connection in
            _ = try await connection.query("DELETE FROM outbox WHERE id = ANY(\(ids))", logger: logger)
        }
    }

    /// What one relay pass did.
    public struct RelayPass: Sendable, Hashable {
        /// Rows published and deleted.
        public var relayed: Int
        /// Rows whose publish failed: kept, and moved to the back of the relay's queue so they
        /// cannot hold up the others.
        public var failed: Int
    }

    /// Publishes rows older than `olderThan` that their writer never deleted (it crashed, or its
    /// publish failed), for this store's topology only (installations sharing a database keep
    /// to their own exchanges): locks up to `limit` of them, hands them to `publish`, which returns the
    /// ids the broker confirmed; deletes those and postpones the rest.
    public func relayStaleOutbox(
        olderThan: Date, limit: Int, publish: @escaping @Sendable ([OutboxEntry]) async -> Set<Int64>
    ) async throws -> RelayPass {
        try await inTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, exchange, routing_key, message_type, message_id, body FROM outbox
                WHERE created_at < \(olderThan) AND starts_with(exchange, \(topology.prefix + "."))
                ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var entries: [OutboxEntry] = []
            for try await row in rows.decode((Int64, String, String, String, UUID, String).self) {
                entries.append(OutboxEntry(
                    id: row.0,
                    message: OutboundMessage(exchange: row.1, routingKey: row.2, type: row.3, messageID: row.4, body: Data(row.5.utf8))))
            }
            guard !entries.isEmpty else { return RelayPass(relayed: 0, failed: 0) }
            let published = await publish(entries)
            let failed = entries.map(\.id).filter { !published.contains($0) }
            try await connection.query(
                """
                WITH gone AS (DELETE FROM outbox WHERE id = ANY(\(Array(published))))
                UPDATE outbox SET created_at = now() WHERE id = ANY(\(failed))
                """,
                logger: logger)
            return RelayPass(relayed: published.count, failed: failed.count)
        }
    }
}
