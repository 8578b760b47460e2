public import Logging

/// Measures one broker hop through this client, the way the pipeline pays it when idle: a
/// persistent message published on one connection, one at a time with a pause before each,
/// until a consumer on a second connection has it (its confirm is awaited alongside).
///
/// ```swift
/// let hops = try await AMQPHopBenchmark.run(url: url, messages: 300, logger: logger)
/// print(hops.sorted()[hops.count / 2])   // p50, milliseconds
/// ```
public enum AMQPHopBenchmark {
    /// Returns each hop's duration in milliseconds, in the order measured. The queue is deleted afterwards.
    public static func run(
        url: String,
        messages: Int = 300,
        pause: Duration = .milliseconds(5),
        queueType: AMQPQueue.QueueType = .quorum,
        logger: Logger
    ) async throws -> [Double] {
        precondition(messages > 0, "messages must be positive")
        let queue = "tasker.bench.hop.\(UInt32.random(in: 0...UInt32.max))"
        let body = [UInt8](repeating: 0x78, count: 200)
        let publisherConfiguration = try AMQPConfiguration(url: url, connectionName: "tasker-bench-hop-publisher")
        let consumerConfiguration = try AMQPConfiguration(url: url, connectionName: "tasker-bench-hop-consumer")
        return try await AMQPConnection.withConnection(configuration: publisherConfiguration, logger: logger) { publisher in
            try await publisher.withTemporaryQueue(AMQPQueue(name: queue, type: queueType)) {
                try await AMQPConnection.withConnection(configuration: consumerConfiguration, logger: logger) { consumer in
                    let deliveries = try await consumer.consume(queue: queue, prefetch: 10)
                    var iterator = deliveries.makeAsyncIterator()
                    var hops: [Double] = []
                    hops.reserveCapacity(messages)
                    let clock = ContinuousClock()
                    for _ in 0..<messages {
                        try await Task.sleep(for: pause)
                        let start = clock.now
                        async let confirmed: Void = publisher.publish(body, routingKey: queue)
                        guard let delivery = try await iterator.next() else {
                            throw AMQPError(code: .consumerCancelled, message: "the hop benchmark's consumer ended")
                        }
                        let hop = clock.now - start
                        try delivery.ack()
                        try await confirmed
                        hops.append(hop.seconds * 1_000)
                    }
                    await deliveries.cancel()
                    return hops
                }
            }
        }
    }
}
