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

    /// Publishes `entries` concurrently and deletes the ones the broker confirmed.
    public func publish(_ entries: [OutboxEntry]) async {
        guard !entries.isEmpty else { return }
        do {
            try await Self.publishAll(entries.map(\.message), on: connection)
            try await store.deleteOutbox(entries.map(\.id))
        } catch {
            logger.debug("outbox publish failed; the relay will retry", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
    }

    /// Publishes messages with confirms, all in flight at once; throws if any one fails.
    public static func publishAll(_ messages: [OutboundMessage], on connection: AMQPConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for message in messages {
                group.addTask { try await publish(message, on: connection) }
            }
            try await group.waitForAll()
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
