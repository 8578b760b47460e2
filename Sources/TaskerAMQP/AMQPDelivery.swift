/// A message delivered to a consumer.
///
/// Acknowledge it with ``ack(multiple:)``, or refuse it with ``nack(multiple:requeue:)`` /
/// ``reject(requeue:)``. Acknowledgements are queued to the connection thread and sent in
/// order; a graceful close sends every acknowledgement queued before it.
/// If the channel that carried the delivery was lost (reconnect), the acknowledgement is
/// dropped and the broker redelivers the message with ``isRedelivered`` set.
public struct AMQPDelivery: Sendable {
    /// The message body.
    public let body: [UInt8]
    /// The message properties.
    public let properties: AMQPProperties
    /// The exchange the message was published to.
    public let exchange: String
    /// The routing key it was published with.
    public let routingKey: String
    /// The consumer tag of the receiving consumer.
    public let consumerTag: String
    /// The delivery tag (scoped to the channel).
    public let deliveryTag: UInt64
    /// Whether the broker delivered this message before (and it was not acknowledged).
    public let isRedelivered: Bool

    let reference: DeliveryReference
    let core: ConnectionCore

    /// Acknowledges this delivery (and, with `multiple`, every earlier one on the channel).
    public func ack(multiple: Bool = false) throws {
        try checkOpen()
        core.submit(.ack(reference, multiple: multiple))
    }

    /// Negatively acknowledges this delivery. Without `requeue` the broker dead-letters or drops it.
    public func nack(multiple: Bool = false, requeue: Bool = true) throws {
        try checkOpen()
        core.submit(.nack(reference, multiple: multiple, requeue: requeue))
    }

    /// Rejects this delivery. Without `requeue` the broker dead-letters or drops it.
    public func reject(requeue: Bool = true) throws {
        try checkOpen()
        core.submit(.reject(reference, requeue: requeue))
    }

    private func checkOpen() throws {
        if core.isFinished {
            throw AMQPError(code: .clientClosed, message: "the connection is closed")
        }
    }

    /// The dead-lettering history of the message (`x-death` header), most recent first.
    public var deaths: [AMQPDeath] {
        guard case .array(let entries)? = properties.headers["x-death"] else { return [] }
        return entries.compactMap { entry in
            guard case .table(let table) = entry else { return nil }
            var routingKeys: [String] = []
            if case .array(let keys)? = table["routing-keys"] { routingKeys = keys.compactMap(\.stringValue) }
            return AMQPDeath(
                queue: table["queue"]?.stringValue ?? "",
                reason: table["reason"]?.stringValue ?? "",
                count: Int(table["count"]?.intValue ?? 0),
                exchange: table["exchange"]?.stringValue ?? "",
                routingKeys: routingKeys
            )
        }
    }
}

/// One entry of the `x-death` header added by the broker when it dead-letters a message.
public struct AMQPDeath: Sendable, Hashable {
    /// The queue the message was dead-lettered from.
    public var queue: String
    /// Why: `rejected`, `expired`, `maxlen` or `delivery_limit`.
    public var reason: String
    /// How many times the message was dead-lettered from that queue for that reason.
    public var count: Int
    public var exchange: String
    public var routingKeys: [String]
}

/// The deliveries of one consumer, as an `AsyncSequence`.
///
/// The sequence ends when the consumer is cancelled (``cancel()``, a graceful close of the
/// connection) and throws when the broker cancels the consumer or the connection closes for
/// good. It survives reconnects: after a reconnect the consumer is re-registered with the same
/// tag and deliveries continue.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias Failure = any Error

    /// The consumer tag.
    public let tag: String
    /// The queue being consumed.
    public let queue: String
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    let core: ConnectionCore

    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Cancels the consumer and waits for the broker's cancel-ok; the sequence then ends.
    ///
    /// Deliveries received before cancel-ok are still yielded. The consumer's channel is closed
    /// afterwards, so unacknowledged deliveries are requeued by the broker.
    public func cancel() async {
        await withCheckedContinuation { continuation in
            core.submit(.cancel(tag: tag, continuation))
        }
    }
}
