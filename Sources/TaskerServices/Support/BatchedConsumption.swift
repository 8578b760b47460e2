internal import Logging
internal import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore

/// Runs a handler over a consumer's deliveries in batches: each call gets everything that
/// arrived while the previous batches were being handled (up to `maxBatch`), and at most
/// `concurrentBatches` calls run at once. Under load a batch costs one transaction for many
/// messages; when idle a batch is a single message and nothing waits for a timer.
///
/// On graceful shutdown (or cancellation) it stops taking deliveries, lets the running batches
/// finish and acknowledge, and only then cancels the consumer: cancelling first would close the
/// channel and drop those acknowledgements. Deliveries prefetched but not started go back to
/// the queue.
enum BatchedConsumption {
    static func run(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        concurrentBatches: Int,
        logger: Logger,
        handle: @escaping @Sendable ([AMQPDelivery]) async -> Void
    ) async {
        let buffer = BatchBuffer<AMQPDelivery>()
        await withTaskGroup(of: Void.self) { readers in
            readers.addTask {
                do {
                    for try await delivery in consumer { buffer.append(delivery) }
                } catch {
                    logger.debug("consumer ended", metadata: ["amqp.queue": "\(consumer.queue)", LogKeys.error: "\(error)"])
                }
                buffer.finish()
            }
            await withTaskCancellationOrGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { handlers in
                    var inFlight = 0
                    while true {
                        if inFlight >= concurrentBatches {
                            await handlers.next()
                            inFlight -= 1
                        }
                        guard let batch = await buffer.next(limit: maxBatch) else { break }
                        handlers.addTask { await handle(batch) }
                        inFlight += 1
                    }
                    // Leaving the group waits for the batches still running.
                }
            } onCancelOrGracefulShutdown: {
                buffer.finish()
            }
            await consumer.cancel()
            readers.cancelAll()
        }
    }
}
