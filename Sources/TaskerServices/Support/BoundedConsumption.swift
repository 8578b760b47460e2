public import Logging
internal import ServiceLifecycle
public import TaskerAMQP

/// Runs a handler over a consumer's deliveries with at most `concurrency` in flight.
///
/// On graceful shutdown the consumer is cancelled (the broker stops delivering), the
/// deliveries already received are handled to the end, and the function returns.
public enum BoundedConsumption {
    public static func run(
        _ consumer: AMQPConsumer,
        concurrency: Int,
        logger: Logger,
        handle: @escaping @Sendable (AMQPDelivery) async -> Void
    ) async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                do {
                    for try await delivery in consumer {
                        if inFlight >= concurrency {
                            await group.next()
                            inFlight -= 1
                        }
                        group.addTask { await handle(delivery) }
                        inFlight += 1
                    }
                } catch {
                    logger.debug("consumer ended", metadata: ["amqp.queue": "\(consumer.queue)", LogKeyNames.error: "\(error)"])
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            // The handler cannot await; cancelling the consumer ends the `for try await` loop
            // above once the broker confirms, and in-flight work then drains.
            Task { await consumer.cancel() }
        }
    }
}

enum LogKeyNames {
    static let error = "tasker.error"
}
