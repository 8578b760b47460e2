public import Foundation
internal import PostgresNIO
public import TaskerCore

/// A message committed with its state change, waiting to be published.
///
/// The outbox holds one row per committed batch (`outbox_batches`); `id` is that row, shared by
/// every message of the batch. A row is deleted once all its messages are confirmed.
public struct OutboxEntry: Sendable, Hashable {
    /// The outbox row (one per batch) that holds the message.
    public var id: Int64
    public var message: OutboundMessage
}

extension PostgresStore {
    /// Writes a batch's messages to the outbox in the caller's transaction: one row, one statement.
    func insertOutbox(_ messages: [OutboundMessage], on connection: PostgresConnection) async throws -> [OutboxEntry] {
        guard !messages.isEmpty else { return [] }
        let row = try await connection.query(
            """
            INSERT INTO outbox_batches (exchanges, routing_keys, message_types, message_ids, bodies)
            VALUES (\(messages.map(\.exchange)), \(messages.map(\.routingKey)), \(messages.map(\.type)),
                    \(messages.map(\.messageID)), \(messages.map { String(decoding: $0.body, as: UTF8.self) }))
            RETURNING id
            """,
            logger: logger
        ).collectFirst(Int64.self)
        guard let row else { throw StoreError(.notFound, "the outbox insert returned no row") }
        return messages.map { OutboxEntry(id: row, message: $0) }
    }

    /// Marks rows as published: the next batch operation of this store deletes them in its
    /// transaction, or ``flushPublishedOutbox()`` does if none comes first.
    public func deleteOutboxLater(_ ids: some Sequence<Int64>) {
        publishedOutbox.add(ids)
    }

    /// Deletes the rows marked by ``deleteOutboxLater(_:)`` that no batch has deleted yet (an
    /// idle service calls it periodically, and once when it stops). On failure they stay marked.
    public func flushPublishedOutbox() async throws {
        let ids = publishedOutbox.take()
        do {
            try await deleteOutbox(ids)
        } catch {
            publishedOutbox.add(ids)
            throw error
        }
    }

    /// Calls ``flushPublishedOutbox()`` every `interval` until the task is cancelled: what a
    /// long-running process that publishes this store's outbox runs beside its work. Under load
    /// the batches delete the rows in their own transactions and this finds nothing to do. The
    /// caller flushes once more after cancelling it (a cancelled task's queries may not run).
    public func flushPublishedOutboxUntilCancelled(every interval: Duration = .milliseconds(250)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                try await flushPublishedOutbox()
            } catch {
                logger.debug("published outbox rows not deleted yet", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            }
        }
    }

    /// Removes published rows.
    public func deleteOutbox(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        let logger = self.logger
        try await database.withConnection { connection in
            _ = try await connection.query("DELETE FROM outbox_batches WHERE id = ANY(\(ids))", logger: logger)
        }
    }

    /// What one relay pass did.
    public struct RelayPass: Sendable, Hashable {
        /// Messages published (their rows deleted).
        public var relayed: Int
        /// Messages of rows a publish of which failed: the rows are kept (all their messages will
        /// be published again) and moved to the back of the relay's queue so they cannot hold up
        /// the others.
        public var failed: Int
    }

    /// Publishes rows older than `olderThan` that their writer never deleted (it crashed, or its
    /// publish failed), for this store's topology only (installations sharing a database keep
    /// to their own exchanges): locks up to `limit` rows, hands their messages to `publish`, which
    /// returns the rows all of whose messages the broker confirmed; deletes those and postpones the rest.
    public func relayStaleOutbox(
        olderThan: Date, limit: Int, publish: @escaping @Sendable ([OutboxEntry]) async -> Set<Int64>
    ) async throws -> RelayPass {
        try await inTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, exchanges, routing_keys, message_types, message_ids, bodies FROM outbox_batches
                WHERE created_at < \(olderThan) AND starts_with(exchanges[1], \(topology.prefix + "."))
                ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var entries: [OutboxEntry] = []
            var batches: [Int64: Int] = [:]
            for try await row in rows.decode((Int64, [String], [String], [String], [UUID], [String]).self) {
                batches[row.0] = row.1.count
                for index in row.1.indices {
                    entries.append(OutboxEntry(
                        id: row.0,
                        message: OutboundMessage(
                            exchange: row.1[index], routingKey: row.2[index], type: row.3[index], messageID: row.4[index],
                            body: Data(row.5[index].utf8))))
                }
            }
            guard !entries.isEmpty else { return RelayPass(relayed: 0, failed: 0) }
            let published = await publish(entries)
            let failed = batches.keys.filter { !published.contains($0) }
            try await connection.query(
                """
                WITH gone AS (DELETE FROM outbox_batches WHERE id = ANY(\(Array(published))))
                UPDATE outbox_batches SET created_at = now() WHERE id = ANY(\(failed))
                """,
                logger: logger)
            return RelayPass(
                relayed: published.reduce(0) { $0 + (batches[$1] ?? 0) }, failed: failed.reduce(0) { $0 + (batches[$1] ?? 0) })
        }
    }
}
