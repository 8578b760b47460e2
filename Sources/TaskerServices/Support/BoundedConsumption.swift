public import Logging
internal import ServiceLifecycle
public import TaskerAMQP
internal import TaskerCore

/// Runs a handler over a consumer's deliveries with at most `concurrency` in flight.
///
/// On graceful shutdown (or cancellation) it stops taking deliveries, lets the handlers
/// already running finish and acknowledge, and only then cancels the consumer: cancelling
/// first would close the channel and drop those acknowledgements. Deliveries prefetched but
/// not started go back to the queue.
public enum BoundedConsumption {
    public static func run(
        _ consumer: AMQPConsumer,
        concurrency: Int,
        logger: Logger,
        handle: @escaping @Sendable (AMQPDelivery) async -> Void
    ) async {
        let (deliveries, forward) = AsyncStream<AMQPDelivery>.makeStream()
        await withTaskGroup(of: Void.self) { readers in
            readers.addTask {
                do {
                    for try await delivery in consumer { forward.yield(delivery) }
                } catch {
                    logger.debug("consumer ended", metadata: ["amqp.queue": "\(consumer.queue)", LogKeys.error: "\(error)"])
                }
                forward.finish()
            }
            await withTaskCancellationOrGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { handlers in
                    var inFlight = 0
                    for await delivery in deliveries {
                        if inFlight >= concurrency {
                            await handlers.next()
                            inFlight -= 1
                        }
                        handlers.addTask { await handle(delivery) }
                        inFlight += 1
                    }
                    // Leaving the group waits for the handlers still running.
                }
            } onCancelOrGracefulShutdown: {
                forward.finish()
            }
            await consumer.cancel()
            readers.cancelAll()
        }
    }
}
