import Foundation
import Logging
import TaskerAMQP
import TaskerCore
import TaskerWire

extension WorkerService {
    /// Declares this worker's private control queue (bound to the control exchange for each of
    /// its namespaces) and starts consuming it.
    func consumeCancellations(on connection: AMQPConnection) async throws -> AMQPConsumer {
        let queue = try await TaskerTopology.declareControlQueue(
            on: connection, topology: configuration.topology, worker: controlQueueID, namespaces: configuration.namespaces)
        return try await connection.consume(queue: queue, prefetch: 100)
    }

    /// Cancels the running attempts that operators cancelled, until the consumer ends.
    /// A message that cannot be decoded is logged and dropped (the queue is private and
    /// transient; a lost cancellation only lets a handler run to its end).
    func receiveCancellations(from consumer: AMQPConsumer) async {
        do {
            for try await delivery in consumer {
                do {
                    let cancellation = try WireCoding.decode(StepCancellation.self, from: Data(delivery.body))
                    let wasRunning = runningSteps.cancel(.init(stepID: cancellation.stepID, attempt: cancellation.attempt))
                    logger.debug(
                        "step cancellation received",
                        metadata: [
                            LogKeys.taskID: "\(cancellation.taskID)", LogKeys.stepID: "\(cancellation.stepID)",
                            LogKeys.attempt: "\(cancellation.attempt)", "tasker.step.running": "\(wasRunning)",
                        ])
                } catch {
                    logger.debug("undecodable step cancellation dropped", metadata: [LogKeys.error: "\(error)"])
                }
                try? delivery.ack()
            }
        } catch {
            // The control consumer is an optimisation: losing it must not stop the worker.
            logger.debug("cancellation consumer ended", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
    }
}
