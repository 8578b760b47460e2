public import TaskerAMQP
public import TaskerCore

/// Moves a message that cannot be processed to the dead-letter exchange with the reason.
/// Used by every Tasker consumer (workers, coordinator, finalizer).
public enum DeadLetters {
    /// The header carrying why a message was dead-lettered.
    public static let errorHeader = "x-tasker-error"
    /// The header carrying the queue a dead-lettered message came from.
    public static let sourceQueueHeader = "x-tasker-source-queue"

    /// Publishes the original body and properties (with confirm) plus the two headers above.
    public static func publish(
        _ delivery: AMQPDelivery,
        reason: String,
        sourceQueue: String,
        topology: WireTopology,
        on connection: AMQPConnection
    ) async throws {
        var properties = delivery.properties
        properties.headers[errorHeader] = .string(String(reason.prefix(1_000)))
        properties.headers[sourceQueueHeader] = .string(sourceQueue)
        properties.persistent = true
        try await connection.publish(
            delivery.body, exchange: topology.deadLetterExchange, routingKey: sourceQueue, properties: properties, mandatory: true)
    }
}
