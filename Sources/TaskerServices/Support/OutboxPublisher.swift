internal import Foundation
public import Logging
public import TaskerAMQP
public import TaskerCore
public import TaskerPostgres

/// Publishes committed outbox rows with pipelined confirms, then deletes them.
///
/// A row whose publish fails stays in the outbox; the relay in the reenqueuer republishes
/// it later, so a commit is never followed by a lost message.
public struct OutboxPublisher: Sendable {
    let connection: AMQPConnection
    let store: PipelineStore
    let logger: Logger

    public init(connection: AMQPConnection, store: PipelineStore, logger: Logger) {
        self.connection = connection
        self.store = store
        self.logger = logger
    }

    /// Publishes `entries` concurrently and deletes the ones the broker confirmed; the others
    /// stay for the relay.
    public func publish(_ entries: [OutboxEntry]) async {
        guard !entries.isEmpty else { return }
        let confirmed = await Self.publishEach(entries, on: connection, logger: logger)
        if confirmed.count < entries.count {
            logger.debug("outbox rows not published; the relay will retry", metadata: ["tasker.messages": "\(entries.count - confirmed.count)"])
        }
        do {
            try await store.deleteOutbox(Array(confirmed))
        } catch {
            logger.debug("published outbox rows not deleted; the relay will publish them again", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
    }

    /// Publishes every entry (all in flight at once) and returns the ids the broker confirmed;
    /// a failure affects its own entry only.
    public static func publishEach(_ entries: [OutboxEntry], on connection: AMQPConnection, logger: Logger) async -> Set<Int64> {
        await withTaskGroup(of: Int64?.self) { group in
            for entry in entries {
                group.addTask {
                    do {
                        try await publish(entry.message, on: connection)
                        return entry.id
                    } catch {
                        logger.debug(
                            "outbox row not published",
                            metadata: ["tasker.outbox.id": "\(entry.id)", "amqp.exchange": "\(entry.message.exchange)", LogKeys.error: "\(error)"])
                        return nil
                    }
                }
            }
            var published: Set<Int64> = []
            for await id in group { if let id { published.insert(id) } }
            return published
        }
    }

    /// Publishes one message with the standard properties. Dispatches are `mandatory`: a
    /// namespace without a worker queue fails loudly instead of dropping the step.
    public static func publish(_ message: OutboundMessage, on connection: AMQPConnection) async throws {
        let isDispatch = message.type == LifecycleEventName.viableStepsDiscovered.rawValue
        try await connection.publish(
            Array(message.body),
            exchange: message.exchange,
            routingKey: message.routingKey,
            properties: AMQPProperties(
                contentType: WireCoding.contentType,
                messageID: message.messageID.uuidString,
                type: message.type,
                timestamp: UInt64(Date().timeIntervalSince1970),
                persistent: true,
                headers: [WireCoding.schemaVersionHeader: .int(Int64(WireCoding.schemaVersion))]
            ),
            mandatory: isDispatch
        )
    }
}
