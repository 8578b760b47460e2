internal import Foundation
public import Logging
internal import Metrics
public import TaskerPostgres
public import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerWire
internal import Tracing

/// Records step results and moves tasks forward.
///
/// Consumes the results queue in batches (whatever arrived while the previous batch ran, up
/// to ``PipelineConfiguration/batchSize``), in ``PipelineConfiguration/concurrency`` lanes keyed by
/// task, so its concurrent batches never share a task. Each batch of `step.started` / `step.completed` /
/// `step.failed` reports is recorded in one transaction: the steps' transitions (idempotently:
/// a duplicate or stale report is acknowledged and ignored), the children that became viable
/// (dispatched), retries scheduled, tasks completed or failed. Then the outbox is published with
/// pipelined confirms and the batch acknowledged. Any number of finalizers may run: tasks are
/// locked in id order, so a fan-in step is dispatched exactly once and batches cannot deadlock.
public final class FinalizerService: Service, BootstrappedService {
    let bootstrap: ServiceBootstrap

    public init(database: Database, configuration: PipelineConfiguration, logger: Logger) {
        self.bootstrap = ServiceBootstrap(role: "finalizer", database: database, configuration: configuration, logger: logger)
    }

    public func run() async throws {
        try await bootstrap.run(consuming: configuration.topology.resultsQueue, prefetch: configuration.batchPrefetch) { wire, deliveries in
            let outbox = OutboxPublisher(wire: wire, store: store, logger: logger)
            // One lane per concurrent batch, results keyed by task: concurrent batches of this
            // finalizer never wait for each other's task locks.
            await BatchedConsumption.run(
                deliveries, maxBatch: configuration.batchSize, lanes: configuration.concurrency, logger: logger,
                prepare: Self.decode
            ) { batch in
                await self.handle(batch, wire: wire, outbox: outbox)
            }
        }
    }

    /// A delivery and its decoded report (or why it could not be decoded).
    typealias Received = (delivery: AMQPDelivery, decoded: Result<StepResultMessage, WireDecodingError>)

    /// Decodes a delivery as it arrives; the key (its task's) picks its lane.
    @Sendable static func decode(_ delivery: AMQPDelivery) -> (element: Received, key: UInt64) {
        do {
            let message = try WireCoding.decode(StepResultMessage.self, from: Data(delivery.body))
            return ((delivery, .success(message)), message.taskID.laneKey)
        } catch {
            return ((delivery, .failure(error)), 0)
        }
    }

    func handle(_ batch: [Received], wire: WirePublisher, outbox: OutboxPublisher) async {
        var results: [(delivery: AMQPDelivery, message: StepResultMessage)] = []
        for (delivery, decoded) in batch {
            switch decoded {
            case .success(let message): results.append((delivery, message))
            case .failure(let error): await deadLetter(delivery, reason: error.description, wire: wire)
            }
        }
        await BatchFallback.run(results, logger: logger) { results in
            try await record(results, outbox: outbox)
        } failed: { result, error in
            requeue(result, error: error)
        }
    }

    /// Records the reports in one transaction, publishes the outbox, acknowledges.
    private func record(_ results: [(delivery: AMQPDelivery, message: StepResultMessage)], outbox: OutboxPublisher) async throws {
        let began = ContinuousClock.now
        let now = configuration.clock.now()
        // The batch's span links every report's step attempt (a batch mixes tasks); the children a
        // report makes ready are dispatched in that attempt's trace.
        let span = startSpan("tasker.results.batch", context: .topLevel, ofKind: .consumer)
        defer { span.end() }
        var traces: [UUID: ServiceContext] = [:]
        for result in results {
            let attempt = WireTracing.context(from: result.delivery.properties.headers)
            span.addLink(SpanLink(context: attempt, attributes: [:]))
            traces[result.message.taskID] = attempt
        }
        span.attributes["tasker.batch.size"] = results.count
        let recording = try await store.recordResults(results.map(\.message), now: now)
        await outbox.publish(recording.outbox, traces: traces)
        var applied: [StepResultMessage.Kind: Int] = [:]
        var ignored = 0
        for (result, outcome) in zip(results, recording.outcomes) {
            do {
                try result.delivery.ack()
            } catch {
                logger.debug("acknowledgement failed", metadata: [LogKeys.stepID: "\(result.message.stepID)", LogKeys.error: "\(String(reflecting: error))"])
            }
            switch outcome {
            case .applied:
                applied[result.message.kind, default: 0] += 1
                PipelineMetrics.resultLatency(occurredAt: result.message.occurredAt, recordedAt: now)
            case .ignored(let reason):
                ignored += 1
                logger.debug(
                    "result ignored",
                    metadata: [
                        LogKeys.taskID: "\(result.message.taskID)", LogKeys.stepID: "\(result.message.stepID)",
                        LogKeys.stepName: "\(result.message.stepName)", "tasker.reason": "\(reason)",
                    ])
            }
        }
        for (kind, count) in applied {
            Counter(label: "tasker.finalizer.results", dimensions: [("outcome", PipelineMetrics.outcome(of: kind))]).increment(by: count)
        }
        if ignored > 0 { Counter(label: "tasker.finalizer.results", dimensions: [("outcome", "ignored")]).increment(by: ignored) }
        PipelineMetrics.batch(role: "finalizer", size: results.count, started: began)
        for (task, state) in recording.finishedTasks {
            logger.debug("task finished", metadata: [LogKeys.taskID: "\(task)", "tasker.task.state": "\(state.rawValue)"])
        }
    }

    private func requeue(_ result: (delivery: AMQPDelivery, message: StepResultMessage), error: any Error) {
        logger.warning(
            "result not recorded; requeued",
            metadata: [
                LogKeys.taskID: "\(result.message.taskID)", LogKeys.stepID: "\(result.message.stepID)",
                LogKeys.error: "\(String(reflecting: error))",
            ])
        try? result.delivery.nack(requeue: true)
    }

    private func deadLetter(_ delivery: AMQPDelivery, reason: String, wire: WirePublisher) async {
        do {
            try await wire.deadLetter(delivery, reason: reason, sourceQueue: configuration.topology.resultsQueue)
            try delivery.ack()
        } catch {
            try? delivery.nack(requeue: true)
        }
    }
}
