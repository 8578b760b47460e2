import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import TaskerAMQP
import TaskerCore
import TaskerWire

/// A long-running worker: consumes step dispatches from RabbitMQ, runs their handlers and
/// publishes the results.
///
/// ```swift
/// var registry = HandlerRegistry()
/// ExampleHandlers.register(in: &registry)
/// let worker = WorkerService(
///     configuration: .init(amqp: try AMQPConfiguration(url: url), namespaces: ["default"]),
///     registry: registry,
///     logger: logger
/// )
/// let group = ServiceGroup(configuration: .init(services: [worker], gracefulShutdownSignals: [.sigterm], logger: logger))
/// try await group.run()
/// ```
///
/// Nothing happens until ``run()`` runs, and it may run only once. It opens one connection
/// for consuming and one for publishing, declares the topology (`TaskerTopology`), starts one
/// consumer per namespace and runs at most ``Configuration-swift.struct/concurrency`` handlers at
/// once (a step's slot frees when its handler returns, while its result is published). For each
/// dispatch it publishes `step.started`, runs the handler through a ``StepExecutor``, publishes
/// `step.completed` / `step.failed` to the results exchange and only then acknowledges the
/// dispatch; if a publish fails the dispatch is not acknowledged, so the broker redelivers it
/// (at-least-once). Results that finish while the worker's previous results message waits for
/// the broker's confirm share the next message (``Configuration-swift.struct/resultBatchSize``).
/// A dispatch that cannot be decoded is published to the
/// dead-letter exchange with an `x-tasker-error` header, then acknowledged.
///
/// On graceful shutdown the worker stops taking deliveries, lets the running steps finish and
/// publish, acknowledges them, cancels its consumers and closes its connections; deliveries
/// that were prefetched but not started are returned to the queue. On cancellation the running
/// handlers are cancelled and their dispatches are left unacknowledged (redelivered later).
public final class WorkerService: Service {
    /// The `tasker.worker.id` logger metadata key.
    public static let workerIDLogKey = "tasker.worker.id"

    let configuration: Configuration
    let executor: StepExecutor
    let logger: Logger
    let metrics = WorkerMetrics()
    /// Attempts running here, cancellable by operators (`WorkerService+Cancellation.swift`).
    let runningSteps = RunningSteps()
    /// Names this worker's private control queue.
    let controlQueueID = UUID().uuidString.lowercased()
    private let hasRun = Mutex(false)

    /// Creates a worker; it connects only when ``run()`` is called.
    /// - Parameters:
    ///   - configuration: Broker, namespaces, concurrency and identity.
    ///   - registry: The handlers it can run.
    ///   - logger: The base logger; the worker adds `tasker.worker.id`, each step adds its ids.
    public init(configuration: Configuration, registry: HandlerRegistry, logger: Logger) {
        precondition(configuration.concurrency > 0, "WorkerService concurrency must be positive")
        self.configuration = configuration
        self.executor = StepExecutor(registry: registry, workerID: configuration.workerID)
        var logger = logger
        logger[metadataKey: Self.workerIDLogKey] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Runs the worker until graceful shutdown or cancellation.
    ///
    /// Throws if the broker cannot be reached at start, the topology cannot be declared, or a
    /// consumer ends with an error (e.g. the broker cancelled it).
    public func run() async throws {
        let alreadyRan = hasRun.withLock { ran in
            defer { ran = true }
            return ran
        }
        precondition(!alreadyRan, "WorkerService.run() called twice")

        try await AMQPConnection.withConnection(configuration: connectionConfiguration("consume"), logger: logger) { consuming in
            try await AMQPConnection.withConnection(configuration: connectionConfiguration("publish"), logger: logger) { publishing in
                try await TaskerTopology.declare(on: consuming, topology: configuration.topology, namespaces: configuration.namespaces)
                let wire = WirePublisher(connection: publishing, topology: configuration.topology)
                try await consume(from: consuming, publishingOn: wire, results: resultPublisher(wire))
            }
        }
    }

    private func connectionConfiguration(_ role: String) -> AMQPConfiguration {
        var amqp = configuration.amqp
        amqp.connectionName = "\(amqp.connectionName ?? "tasker-worker \(configuration.workerID)") \(role)"
        return amqp
    }

    /// How results are published: alone, each as soon as it is ready (``Configuration/resultBatchSize`` 1),
    /// or through a ``ResultBatcher``.
    private func resultPublisher(_ wire: WirePublisher) -> @Sendable (StepResultMessage) async throws -> Void {
        let metrics = self.metrics
        guard configuration.resultBatchSize > 1 else {
            return { result in
                try await wire.publish(result)
                metrics.publishedResults(1)
            }
        }
        let batcher = ResultBatcher(maxBatch: configuration.resultBatchSize) { entries in
            try await wire.publish(entries)
            metrics.publishedResults(entries.count)
        }
        return { result in try await batcher.publish(StepResultBatch.Entry(result, trace: WirePublisher.currentTrace())) }
    }

    // MARK: - Consuming

    /// Merges every namespace's consumer into one stream and runs deliveries with bounded width.
    private func consume(
        from consuming: AMQPConnection, publishingOn publishing: WirePublisher,
        results: @escaping @Sendable (StepResultMessage) async throws -> Void
    ) async throws {
        let prefetch = UInt16(clamping: configuration.prefetch ?? Self.defaultPrefetch(concurrency: configuration.concurrency))
        var consumers: [AMQPConsumer] = []
        var seen = Set<String>()
        for namespace in configuration.namespaces where seen.insert(namespace).inserted {
            consumers.append(try await consuming.consume(queue: configuration.topology.stepsQueue(namespace: namespace), prefetch: prefetch))
        }
        let cancellations = try await consumeCancellations(on: consuming)
        logger.info(
            "worker started",
            metadata: [
                "tasker.worker.namespaces": "\(configuration.namespaces.joined(separator: ","))",
                "tasker.worker.concurrency": "\(configuration.concurrency)",
                "tasker.worker.prefetch": "\(prefetch)",
            ]
        )

        let (deliveries, merged) = AsyncStream<(delivery: AMQPDelivery, queue: String)>.makeStream()
        let state = ConsumeState()

        try await withThrowingTaskGroup(of: Void.self) { readers in
            readers.addTask { await self.receiveCancellations(from: cancellations) }
            for consumer in consumers {
                readers.addTask {
                    do {
                        for try await delivery in consumer { merged.yield((delivery, consumer.queue)) }
                    } catch {
                        state.failure.withLock { $0 = $0 ?? error }
                        merged.finish()
                    }
                }
            }

            // Stop taking deliveries on graceful shutdown or cancellation. The handler is
            // synchronous, so finishing the stream and setting the flag needs no extra task.
            await withTaskCancellationOrGracefulShutdownHandler {
                await runDeliveries(deliveries, state: state, publishing: publishing, results: results)
            } onCancelOrGracefulShutdown: {
                state.stopping.withLock { $0 = true }
                merged.finish()
            }

            // Every started step has published and acknowledged: now stop the consumers.
            // Prefetched deliveries that were not started go back to the queue.
            for consumer in consumers { await consumer.cancel() }
            await cancellations.cancel()
            merged.finish()
            try await readers.waitForAll()
        }
        logger.info("worker stopped")
        if let error = state.failure.withLock({ $0 }) { throw error }
    }

    /// Runs deliveries, at most `concurrency` handlers at once, until the stream ends or
    /// `stopping` is set. A step's slot frees when its handler returns (``StepSlots``).
    private func runDeliveries(
        _ deliveries: AsyncStream<(delivery: AMQPDelivery, queue: String)>, state: ConsumeState, publishing: WirePublisher,
        results: @escaping @Sendable (StepResultMessage) async throws -> Void
    ) async {
        await StepSlots(limit: configuration.concurrency).run(deliveries, while: { !state.stopping.withLock { $0 } }) { item, slot in
            await self.process(item.delivery, from: item.queue, publishing: publishing, results: results, slot: slot)
        }
    }
}

/// State shared by the consuming loop, the consumer readers and the shutdown handler.
private final class ConsumeState: Sendable {
    /// Set on graceful shutdown or cancellation: take no more deliveries.
    let stopping = Mutex(false)
    /// The first error a consumer ended with.
    let failure = Mutex<(any Error)?>(nil)
}
