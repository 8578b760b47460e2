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

    /// A report (or why a delivery could not be decoded) and the delivery that carried it.
    typealias Received = (delivery: SharedDelivery, decoded: Result<StepResultBatch.Entry, WireDecodingError>)

    /// Decodes a delivery as it arrives into its reports (one, or several for `step.results`);
    /// each report's task picks its lane.
    @Sendable static func decode(_ delivery: AMQPDelivery) -> [(element: Received, key: UInt64)] {
        do {
            let entries = try StepResultBatch.decode(Data(delivery.body))
            let shared = SharedDelivery(delivery, reports: entries.count)
            return entries.map { entry in ((shared, .success(entry)), entry.result.taskID.laneKey) }
        } catch {
            return [((SharedDelivery(delivery, reports: 1), .failure(error)), 0)]
        }
    }

    /// A decoded report and the delivery that carried it.
    typealias Report = (delivery: SharedDelivery, entry: StepResultBatch.Entry)

    func handle(_ batch: [Received], wire: WirePublisher, outbox: OutboxPublisher) async {
        var results: [Report] = []
        for (delivery, decoded) in batch {
            switch decoded {
            case .success(let entry): results.append((delivery, entry))
            case .failure(let error): await deadLetter(delivery.delivery, reason: error.description, wire: wire)
            }
        }
        await BatchFallback.run(results, logger: logger) { results in
            try await record(results, outbox: outbox)
        } failed: { result, error in
            requeue(result, error: error)
        }
    }

    /// Records the reports in one transaction, publishes the outbox, acknowledges.
    private func record(_ results: [Report], outbox: OutboxPublisher) async throws {
        let began = ContinuousClock.now
        let now = configuration.clock.now()
        // The batch's span links every report's step attempt (a batch mixes tasks); the children a
        // report makes ready are dispatched in that attempt's trace.
        let span = startSpan("tasker.results.batch", context: .topLevel, ofKind: .consumer)
        defer { span.end() }
        var traces: [UUID: ServiceContext] = [:]
        for result in results {
            // A report sent alone carries its attempt's trace in its headers; one of a batch, in its entry.
            let attempt = result.entry.trace.isEmpty
                ? WireTracing.context(from: result.delivery.delivery.properties.headers)
                : WireTracing.context(from: result.entry.trace)
            span.addLink(SpanLink(context: attempt, attributes: [:]))
            traces[result.entry.result.taskID] = attempt
        }
        span.attributes["tasker.batch.size"] = results.count
        let recording = try await store.recordResults(results.map(\.entry.result), now: now)
        await outbox.publish(recording.outbox, traces: traces)
        var applied: [StepResultMessage.Kind: Int] = [:]
        var ignored = 0
        for (report, outcome) in zip(results, recording.outcomes) {
            let result = report.entry.result
            do {
                try report.delivery.ack()
            } catch {
                logger.debug("acknowledgement failed", metadata: [LogKeys.stepID: "\(result.stepID)", LogKeys.error: "\(String(reflecting: error))"])
            }
            switch outcome {
            case .applied:
                applied[result.kind, default: 0] += 1
                PipelineMetrics.resultLatency(occurredAt: result.occurredAt, recordedAt: now)
            case .ignored(let reason):
                ignored += 1
                logger.debug(
                    "result ignored",
                    metadata: [
                        LogKeys.taskID: "\(result.taskID)", LogKeys.stepID: "\(result.stepID)",
                        LogKeys.stepName: "\(result.stepName)", "tasker.reason": "\(reason)",
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

    private func requeue(_ report: Report, error: any Error) {
        logger.warning(
            "result not recorded; requeued",
            metadata: [
                LogKeys.taskID: "\(report.entry.result.taskID)", LogKeys.stepID: "\(report.entry.result.stepID)",
                LogKeys.error: "\(String(reflecting: error))",
            ])
        try? report.delivery.requeue()
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
