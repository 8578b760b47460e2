public import TaskerAMQP
public import TaskerCore

/// Moves a message that cannot be processed to the dead-letter exchange with the reason.
public enum DeadLetters {
    /// Publishes the original body and properties with `x-tasker-error` and `x-tasker-source-queue` headers.
    public static func publish(
        _ delivery: AMQPDelivery,
        reason: String,
        sourceQueue: String,
        topology: WireTopology,
        on connection: AMQPConnection
    ) async throws {
        var properties = delivery.properties
        properties.headers["x-tasker-error"] = .string(String(reason.prefix(1_000)))
        properties.headers["x-tasker-source-queue"] = .string(sourceQueue)
        properties.persistent = true
        try await connection.publish(delivery.body, exchange: topology.deadLetterExchange, routingKey: sourceQueue, properties: properties)
    }
}
