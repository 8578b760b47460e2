public import Logging

/// Measures publish-with-confirms and consume-with-ack throughput against a broker.
///
/// ```swift
/// let result = try await AMQPBenchmark.run(url: url, messages: 50_000, size: 200, queueType: .quorum, logger: logger)
/// print(result.table)
/// ```
public struct AMQPBenchmark: Sendable {
    private init() {}

    /// Publishes `messages` persistent messages of `size` bytes to a fresh queue with up to
    /// `inFlight` confirms outstanding, first with one `publish` call per message, then the same
    /// number again with ``AMQPConnection/publish(contentsOf:)`` batches; then consumes all of them
    /// with manual acks (prefetch `prefetch`) on a second connection. The queue is deleted afterwards.
    public static func run(
        url: String,
        messages: Int = 50_000,
        size: Int = 200,
        queueType: AMQPQueue.QueueType = .quorum,
        inFlight: Int = 1000,
        prefetch: UInt16 = 200,
        logger: Logger
    ) async throws -> AMQPBenchmarkResult {
        precondition(messages > 0 && inFlight > 0, "messages and inFlight must be positive")
        let queue = "tasker.bench.\(UInt32.random(in: 0...UInt32.max))"
        let body = [UInt8](repeating: 0x78, count: size)
        let clock = ContinuousClock()
        let publisherConfiguration = try AMQPConfiguration(url: url, connectionName: "tasker-bench-publisher")
        let consumerConfiguration = try AMQPConfiguration(url: url, connectionName: "tasker-bench-consumer")

        return try await AMQPConnection.withConnection(configuration: publisherConfiguration, logger: logger) { publisher in
            try await publisher.withTemporaryQueue(AMQPQueue(name: queue, type: queueType)) {
                // 1. `inFlight` tasks call publish(_:) concurrently, so that many confirms are outstanding.
                let publishStart = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let workers = min(inFlight, messages)
                    for worker in 0..<workers {
                        let share = messages / workers + (worker < messages % workers ? 1 : 0)
                        group.addTask {
                            for _ in 0..<share { try await publisher.publish(body, routingKey: queue) }
                        }
                    }
                    try await group.waitForAll()
                }
                let publishDuration = clock.now - publishStart

                // 2. Four tasks call publish(contentsOf:) with batches of inFlight / 4 messages.
                let batchStart = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let workers = 4
                    let batchSize = max(1, inFlight / workers)
                    for worker in 0..<workers {
                        let share = messages / workers + (worker < messages % workers ? 1 : 0)
                        group.addTask {
                            var remaining = share
                            while remaining > 0 {
                                let count = min(batchSize, remaining)
                                let batch = [AMQPMessage](repeating: AMQPMessage(body: body, routingKey: queue), count: count)
                                for result in await publisher.publish(contentsOf: batch) { try result.get() }
                                remaining -= count
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let batchPublishDuration = clock.now - batchStart

                // 3. Consume everything with manual acks.
                let total = 2 * messages
                let consumeDuration = try await AMQPConnection.withConnection(configuration: consumerConfiguration, logger: logger) {
                    consumer in
                    let consumeStart = clock.now
                    let deliveries = try await consumer.consume(queue: queue, prefetch: prefetch)
                    var received = 0
                    for try await delivery in deliveries {
                        try delivery.ack()
                        received += 1
                        if received == total { break }
                    }
                    let duration = clock.now - consumeStart
                    await deliveries.cancel()
                    return duration
                }
                return AMQPBenchmarkResult(
                    messages: messages, messageSize: size, queueType: queueType, inFlight: inFlight, prefetch: prefetch,
                    publishDuration: publishDuration, batchPublishDuration: batchPublishDuration, consumeDuration: consumeDuration
                )
            }
        }
    }
}

/// Throughput figures measured by ``AMQPBenchmark``.
public struct AMQPBenchmarkResult: Sendable {
    public var messages: Int
    public var messageSize: Int
    public var queueType: AMQPQueue.QueueType
    public var inFlight: Int
    public var prefetch: UInt16
    /// Time to publish `messages` messages with concurrent ``AMQPConnection/publish(_:exchange:routingKey:properties:mandatory:)`` calls.
    public var publishDuration: Duration
    /// Time to publish `messages` messages with ``AMQPConnection/publish(contentsOf:)`` batches.
    public var batchPublishDuration: Duration
    /// Time to consume and acknowledge all `2 * messages` messages.
    public var consumeDuration: Duration

    /// Messages per second published and confirmed, one `publish` call per message.
    public var publishRate: Double { Double(messages) / max(publishDuration.seconds, 1e-9) }
    /// Messages per second published and confirmed, in batches.
    public var batchPublishRate: Double { Double(messages) / max(batchPublishDuration.seconds, 1e-9) }
    /// Messages per second consumed and acknowledged.
    public var consumeRate: Double { Double(2 * messages) / max(consumeDuration.seconds, 1e-9) }

    /// The figures as a text table.
    public var table: String {
        func row(_ cells: [String]) -> String {
            zip(cells, [34, 10, 10, 12]).map { cell, width in
                cell.count >= width ? cell : cell + String(repeating: " ", count: width - cell.count)
            }.joined(separator: " | ")
        }
        func format(_ value: Double, decimals: Int) -> String {
            let factor = pow10(decimals)
            let rounded = (value * factor).rounded() / factor
            return decimals == 0 ? "\(Int(rounded))" : "\(rounded)"
        }
        let header = "AMQP benchmark: \(messages) persistent messages of \(messageSize) B, \(queueType) queue, "
            + "\(inFlight) confirms in flight, prefetch \(prefetch)"
        let lines = [
            header,
            row(["operation", "messages", "seconds", "msg/s"]),
            row([String(repeating: "-", count: 34), String(repeating: "-", count: 10), String(repeating: "-", count: 10), String(repeating: "-", count: 12)]),
            row(["publish, confirmed (per message)", "\(messages)", format(publishDuration.seconds, decimals: 3), format(publishRate, decimals: 0)]),
            row(["publish, confirmed (batches)", "\(messages)", format(batchPublishDuration.seconds, decimals: 3), format(batchPublishRate, decimals: 0)]),
            row(["consume, acked", "\(2 * messages)", format(consumeDuration.seconds, decimals: 3), format(consumeRate, decimals: 0)]),
        ]
        return lines.joined(separator: "\n")
    }

    private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { value, _ in value * 10 } }
}
