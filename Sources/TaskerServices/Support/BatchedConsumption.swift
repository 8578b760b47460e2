internal import Logging
internal import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore

/// Runs a handler over a consumer's deliveries in batches, in `lanes` lanes: each delivery is
/// prepared once as it arrives (the finalizer decodes it) and goes to the lane its key picks
/// (round robin when it has none); each lane hands its handler everything that arrived while
/// its previous batch ran (up to `maxBatch`), one batch at a time, and the lanes' batches run at
/// once. Under load a batch costs one transaction for many messages; when idle a batch is a
/// single message and nothing waits for a timer.
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
    /// Batches of deliveries as they are, in `lanes` lanes taken in turn.
    static func run(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        lanes: Int,
        logger: Logger,
        handle: @escaping @Sendable ([AMQPDelivery]) async -> Void
    ) async {
        await run(consumer, maxBatch: maxBatch, lanes: lanes, logger: logger, prepare: { ($0, nil) }, handle: handle)
    }

    /// Batches of prepared deliveries, each in the lane of its key (`nil`: the next lane in turn).
    static func run<Element: Sendable>(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        lanes: Int,
        logger: Logger,
        prepare: @escaping @Sendable (AMQPDelivery) -> (element: Element, key: UInt64?),
        handle: @escaping @Sendable ([Element]) async -> Void
    ) async {
        let buffers = (0..<max(1, lanes)).map { _ in BatchBuffer<Element>() }
        await withTaskGroup(of: Void.self) { readers in
            readers.addTask {
                var turn: UInt64 = 0
                do {
                    for try await delivery in consumer {
                        let (element, key) = prepare(delivery)
                        turn &+= 1
                        buffers[Int((key ?? turn) % UInt64(buffers.count))].append(element)
                    }
                } catch {
                    logger.debug("consumer ended", metadata: ["amqp.queue": "\(consumer.queue)", LogKeys.error: "\(error)"])
                }
                for buffer in buffers { buffer.finish() }
            }
            await withTaskCancellationOrGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { laneTasks in
                    for buffer in buffers {
                        laneTasks.addTask {
                            while let batch = await buffer.next(limit: maxBatch) { await handle(batch) }
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
