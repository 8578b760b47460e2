package import TaskerAMQP
package import TaskerCore

/// One message on the dead-letter queue, with why it is there.
package struct DeadLetter: Sendable, Hashable {
    /// The message id (`message_id` property); empty when the publisher set none.
    package var messageID: String
    /// The message type (`type` property), e.g. `step.completed`, `task.request`.
    package var type: String?
    /// Why: the `x-tasker-error` header of a message a Tasker service refused, or the broker's
    /// reason (`delivery_limit`, `rejected`, ...) from `x-death`.
    package var reason: String
    /// The queue it was dead-lettered from.
    package var sourceQueue: String
    /// How many times the broker dead-lettered it.
    package var deaths: Int
    /// The body, as published.
    package var body: [UInt8]
    /// Its properties, with the dead-lettering headers.
    package var properties: AMQPProperties

    /// The body as text (it is JSON for every Tasker message), cut to `limit` characters.
    package func preview(limit: Int = 200) -> String {
        let text = String(decoding: body, as: UTF8.self)
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}

/// Reads, replays and purges the dead-letter queue of a topology (`tasker dlq`).
///
/// Reading consumes the messages and returns every one to the queue (nack with requeue): the
/// dead-letter queue has no delivery limit, so browsing never loses a message. Replaying
/// publishes the message, with confirm, straight to the queue it came from (without the
/// dead-lettering headers) and only then removes it from the dead-letter queue. Discarding
/// removes one message (acknowledges it) without sending it anywhere.
package struct DeadLetterQueue: Sendable {
    let wire: WirePublisher
    var connection: AMQPConnection { wire.connection }
    var topology: WireTopology { wire.topology }

    package init(connection: AMQPConnection, topology: WireTopology) {
        self.wire = WirePublisher(connection: connection, topology: topology)
    }

    /// Up to `limit` messages, oldest first.
    package func list(limit: Int = 100) async throws -> [DeadLetter] {
        try await browse(limit: limit) { _ in .keep }.letters
    }

    /// Replays the message with `messageID` to its source queue. Returns it, or `nil` when no
    /// message among the first `searchLimit` has that id.
    package func replay(messageID: String, searchLimit: Int = 10_000) async throws -> DeadLetter? {
        try await browse(limit: searchLimit) { $0.messageID == messageID ? .replay : .keep }.removed.first
    }

    /// Removes the message with `messageID` for good (it is not sent anywhere). Returns it, or
    /// `nil` when no message among the first `searchLimit` has that id.
    package func discard(messageID: String, searchLimit: Int = 10_000) async throws -> DeadLetter? {
        try await browse(limit: searchLimit) { $0.messageID == messageID ? .discard : .keep }.removed.first
    }

    /// Removes every message; returns how many there were.
    package func purge() async throws -> Int {
        try await connection.purgeQueue(topology.deadLetterQueue)
    }

    enum Action { case keep, replay, discard }

    /// Takes up to `limit` of the messages ready now, replays or discards those `decide` picks
    /// (`removed`), and requeues the rest.
    private func browse(
        limit: Int, decide: @escaping @Sendable (DeadLetter) -> Action
    ) async throws -> (letters: [DeadLetter], removed: [DeadLetter]) {
        let queue = topology.deadLetterQueue
        // The ready count leaves out messages a moment ago requeued by an earlier browse (a
        // quorum queue applies the requeue asynchronously): count twice, 200 ms apart, and
        // take the larger.
        var ready = try await connection.queueInfo(queue).messageCount
        try await Task.sleep(for: .milliseconds(200))
        ready = max(ready, try await connection.queueInfo(queue).messageCount)
        let wanted = min(limit, ready)
        guard wanted > 0 else { return ([], []) }
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(clamping: min(wanted, 1_000)))
        let wire = self.wire
        let result = try await withThrowingTaskGroup(of: ([DeadLetter], [DeadLetter], [AMQPDelivery])?.self) { group in
            group.addTask {
                var letters: [DeadLetter] = []
                var removed: [DeadLetter] = []
                var held: [AMQPDelivery] = []
                for try await delivery in consumer {
                    let letter = Self.letter(delivery)
                    letters.append(letter)
                    switch decide(letter) {
                    case .replay:
                        try await wire.replay(delivery, to: letter.sourceQueue)
                        try delivery.ack()
                        removed.append(letter)
                    case .discard:
                        try delivery.ack()
                        removed.append(letter)
                    case .keep:
                        held.append(delivery)
                    }
                    if letters.count == wanted { break }
                }
                return (letters, removed, held)
            }
            // Messages can vanish meanwhile (another purge or replay): do not wait for them forever.
            group.addTask { try await Task.sleep(for: .seconds(30)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        for delivery in result?.2 ?? [] { try? delivery.nack(requeue: true) }
        await consumer.cancel()
        return (result?.0 ?? [], result?.1 ?? [])
    }

    static func letter(_ delivery: AMQPDelivery) -> DeadLetter {
        let death = delivery.deaths.first
        let headers = delivery.properties.headers
        return DeadLetter(
            messageID: delivery.properties.messageID ?? "",
            type: delivery.properties.type,
            reason: headers[DeadLetterHeaders.reason]?.stringValue ?? death.map { "broker: \($0.reason)" } ?? "unknown",
            sourceQueue: headers[DeadLetterHeaders.sourceQueue]?.stringValue ?? death?.queue ?? "",
            deaths: delivery.deaths.reduce(0) { $0 + $1.count },
            body: delivery.body,
            properties: delivery.properties)
    }
}
