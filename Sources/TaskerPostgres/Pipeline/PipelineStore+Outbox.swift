public import Foundation
internal import PostgresNIO
public import TaskerCore

/// An outbox row: a message committed with its state change, waiting to be published.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var message: OutboundMessage
}

extension PipelineStore {
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
        try await client.query("DELETE FROM outbox WHERE id = ANY(\(ids))", logger: logger)
    }

    /// Publishes rows older than `olderThan` that their writer never deleted (it crashed, or its
    /// publish failed): locks up to `limit` of them, hands them to `publish`, deletes them once
    /// `publish` returns. Returns how many were republished.
    public func relayStaleOutbox(olderThan: Date, limit: Int, publish: ([OutboxEntry]) async throws -> Void) async throws -> Int {
        try await tasks.inTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, exchange, routing_key, message_type, message_id, body FROM outbox
                WHERE created_at < \(olderThan) ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var entries: [OutboxEntry] = []
            for try await row in rows.decode((Int64, String, String, String, UUID, String).self) {
                entries.append(OutboxEntry(
                    id: row.0,
                    message: OutboundMessage(exchange: row.1, routingKey: row.2, type: row.3, messageID: row.4, body: Data(row.5.utf8))))
            }
            guard !entries.isEmpty else { return 0 }
            try await publish(entries)
            try await connection.query("DELETE FROM outbox WHERE id = ANY(\(entries.map(\.id)))", logger: logger)
            return entries.count
        }
    }

    /// Rows waiting in the outbox.
    public func outboxCount() async throws -> Int {
        try await client.query("SELECT count(*)::int8 FROM outbox", logger: logger).collectFirst(Int.self) ?? 0
    }
}
