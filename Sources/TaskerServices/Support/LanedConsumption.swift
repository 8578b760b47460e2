internal import Logging
internal import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore

/// Runs a handler over a consumer's deliveries in batches, in `lanes` lanes: each delivery is
/// prepared once (decoded) as it arrives and goes to the lane its key picks; each lane hands
/// its handler everything that arrived while its previous batch ran (up to `maxBatch`), one
/// batch at a time. Batches of different lanes run at once.
///
/// The finalizer keys results by task: two of its batches never hold locks on the same task, so
/// neither waits for the other's commit, where batches formed from one queue often did (a
/// diamond's two middle steps finishing in consecutive batches).
///
/// Shutdown is as in ``BatchedConsumption``: stop taking deliveries, let running batches finish
/// and acknowledge, then cancel the consumer; prepared deliveries not yet handed out go back to
/// the queue when the channel closes.
enum LanedConsumption {
    static func run<Element: Sendable>(
        _ consumer: AMQPConsumer,
        maxBatch: Int,
        lanes: Int,
        logger: Logger,
        prepare: @escaping @Sendable (AMQPDelivery) -> (element: Element, key: UInt64),
        handle: @escaping @Sendable ([Element]) async -> Void
    ) async {
        let buffers = (0..<max(1, lanes)).map { _ in BatchBuffer<Element>() }
        await withTaskGroup(of: Void.self) { readers in
            readers.addTask {
                do {
                    for try await delivery in consumer {
                        let (element, key) = prepare(delivery)
                        buffers[Int(key % UInt64(buffers.count))].append(element)
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
