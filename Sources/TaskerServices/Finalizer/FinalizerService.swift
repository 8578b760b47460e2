internal import Foundation
public import Logging
internal import Metrics
public import PostgresNIO
public import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerPostgres
internal import TaskerWorker

/// Records step results and moves tasks forward.
///
/// Consumes the results queue; for each `step.started` / `step.completed` / `step.failed`,
/// in one transaction records the step's transitions (idempotently: a duplicate or stale
/// result is acknowledged and ignored), dispatches the completed step's children that became
/// viable, schedules retries, and completes or fails the task; then publishes the outbox.
/// Any number of finalizers may run: row locks make a fan-in step dispatch exactly once.
public final class FinalizerService: Service {
    let client: PostgresClient
    let configuration: PipelineConfiguration
    let logger: Logger
    let store: PipelineStore

    public init(client: PostgresClient, configuration: PipelineConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.store = PipelineStore(client: client, topology: configuration.topology, logger: logger)
    }

    public func run() async throws {
        let topology = configuration.topology
        try await AMQPConnection.withConnection(configuration: configuration.named("tasker-finalizer-publish"), logger: logger) { publisher in
            try await TaskerTopology.declare(on: publisher, topology: topology, namespaces: [])
            try await AMQPConnection.withConnection(configuration: configuration.named("tasker-finalizer-consume"), logger: logger) { consumer in
                let deliveries = try await consumer.consume(queue: topology.resultsQueue, prefetch: UInt16(configuration.concurrency))
                logger.info("finalizer started", metadata: ["amqp.queue": "\(topology.resultsQueue)"])
                let outbox = OutboxPublisher(connection: publisher, store: store, logger: logger)
                await BoundedConsumption.run(deliveries, concurrency: configuration.concurrency, logger: logger) { delivery in
                    await self.handle(delivery, publisher: publisher, outbox: outbox)
                }
            }
        }
        logger.info("finalizer stopped")
    }

    func handle(_ delivery: AMQPDelivery, publisher: AMQPConnection, outbox: OutboxPublisher) async {
        let message: StepResultMessage
        do {
            message = try WireCoding.decode(StepResultMessage.self, from: Data(delivery.body))
        } catch {
            do {
                try await DeadLetters.publish(
                    delivery, reason: error.description, sourceQueue: configuration.topology.resultsQueue,
                    topology: configuration.topology, on: publisher)
                try delivery.ack()
            } catch {
                try? delivery.nack(requeue: true)
            }
            return
        }
        var logger = self.logger
        logger[metadataKey: LogKeys.taskID] = "\(message.taskID)"
        logger[metadataKey: LogKeys.stepID] = "\(message.stepID)"
        logger[metadataKey: LogKeys.stepName] = "\(message.stepName)"
        do {
            let recording = try await store.recordResult(message, now: Date())
            await outbox.publish(recording.outbox)
            try delivery.ack()
            if let reason = recording.ignoredBecause {
                Counter(label: "tasker.finalizer.results", dimensions: [("outcome", "ignored")]).increment()
                logger.debug("result ignored", metadata: ["tasker.reason": "\(reason)"])
            } else {
                Counter(label: "tasker.finalizer.results", dimensions: [("outcome", message.kind.rawValue)]).increment()
            }
            if let finished = recording.finishedTask {
                logger.debug("task finished", metadata: ["tasker.task.state": "\(finished.rawValue)"])
            }
        } catch {
            logger.warning("result not recorded; requeued", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            try? delivery.nack(requeue: true)
        }
    }
}
