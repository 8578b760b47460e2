internal import Logging
internal import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore

/// Runs a handler over a consumer's deliveries in batches, in `lanes` lanes: each delivery is
/// prepared once as it arrives (the finalizer decodes it) and goes to the lane its key picks,
/// or, without keys, to one queue every lane takes from. Each lane hands its handler everything
/// waiting when its previous batch ended (up to `maxBatch`), one batch at a time, and the
/// lanes' batches run at once. Under load a batch costs one transaction for many messages;
/// when idle a batch is a single message and nothing waits for a timer.
///
/// The finalizer keys results by task: two of its batches never hold locks on the same task, so
/// neither waits for the other's commit (a diamond's two middle steps finishing in consecutive
/// batches often did).
///
/// On graceful shutdown (or cancellation) it stops taking deliveries, lets the running batches
/// finish and acknowledge, and only then cancels the consumer: cancelling first would close the
/// channel and drop those acknowledgements. Deliveries prefetched but not handed out go back to
/// the queue.
enum BatchedConsumption {
    /// Batches of deliveries as they are: `lanes` batches at once, all taken from one queue, so
    /// a lane busy with a slow batch holds nothing up.
    static func run(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        lanes: Int,
        logger: Logger,
        handle: @escaping @Sendable ([AMQPDelivery]) async -> Void
    ) async {
        await consume(
            consumer, queues: 1, takersPerQueue: max(1, lanes), maxBatch: maxBatch, logger: logger,
            prepare: { [(element: $0, key: UInt64(0))] }, handle: handle)
    }

    /// Batches of prepared deliveries, each in the lane of its key: one queue and one batch at a
    /// time per lane. A delivery may be prepared as several elements (the reports of a
    /// `step.results` message), each going to its own key's lane.
    static func run<Element: Sendable>(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        lanes: Int,
        logger: Logger,
        prepare: @escaping @Sendable (AMQPDelivery) -> [(element: Element, key: UInt64)],
        handle: @escaping @Sendable ([Element]) async -> Void
    ) async {
        await consume(
            consumer, queues: max(1, lanes), takersPerQueue: 1, maxBatch: maxBatch, logger: logger,
            prepare: prepare, handle: handle)
    }

    private static func consume<Element: Sendable>(
        _ consumer: AMQPConsumer,
        queues: Int,
        takersPerQueue: Int,
        maxBatch: Int,
        logger: Logger,
        prepare: @escaping @Sendable (AMQPDelivery) -> [(element: Element, key: UInt64)],
        handle: @escaping @Sendable ([Element]) async -> Void
    ) async {
        let buffers = (0..<queues).map { _ in BatchBuffer<Element>() }
        await withTaskGroup(of: Void.self) { readers in
            readers.addTask {
                do {
                    for try await delivery in consumer {
                        for (element, key) in prepare(delivery) { buffers[Int(key % UInt64(queues))].append(element) }
                    }
                } catch {
                    logger.debug("consumer ended", metadata: ["amqp.queue": "\(consumer.queue)", LogKeys.error: "\(error)"])
                }
                for buffer in buffers { buffer.finish() }
            }
            await withTaskCancellationOrGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { takers in
                    for buffer in buffers {
                        for _ in 0..<takersPerQueue {
                            takers.addTask {
                                while let batch = await buffer.next(limit: maxBatch) { await handle(batch) }
                            }
                        }
                    }
                    // Leaving the group waits for the batches still running.
                }
            } onCancelOrGracefulShutdown: {
                for buffer in buffers { buffer.finish() }
            }
            await consumer.cancel()
            readers.cancelAll()
        }
    }
}
