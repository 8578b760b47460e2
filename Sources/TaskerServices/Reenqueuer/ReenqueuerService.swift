internal import Foundation
public import Logging
internal import Metrics
public import TaskerPostgres
public import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerWire
internal import Tracing

/// Runs each retry at its `next_retry_at`, and keeps the pipeline whole.
///
/// The schedule lives in PostgreSQL (`steps.next_retry_at`); the reenqueuer sleeps exactly
/// until the earliest one and is woken early by `step.retry_scheduled` events, so a retry
/// starts within milliseconds of its time, with no polling interval. Due steps are moved to
/// `enqueued` and dispatched through the outbox, the same path as any dispatch.
///
/// It also runs the maintenance loops: the deadline sweeper (a running attempt whose worker
/// vanished fails as a timeout; a dispatch nobody started is published again) and the
/// outbox relay (rows left behind by a crash between commit and publish are published).
/// Several reenqueuers may run; `SKIP LOCKED` keeps them apart.
public final class ReenqueuerService: Service, BootstrappedService {
    let bootstrap: ServiceBootstrap
    let wake = WakeSignal()

    public init(database: Database, configuration: PipelineConfiguration, logger: Logger) {
        self.bootstrap = ServiceBootstrap(role: "reenqueuer", database: database, configuration: configuration, logger: logger)
    }

    public func run() async throws {
        try await bootstrap.run(consuming: configuration.topology.reenqueueQueue, prefetch: 100) { wire, events in
            let outbox = OutboxPublisher(wire: wire, store: store, logger: logger)
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await BatchedConsumption.run(events, maxBatch: 100, lanes: 1, logger: self.logger) { batch in
                        // Any retry_scheduled event may move the earliest retry forward: re-check
                        // now, once for however many arrived together.
                        self.wake.wake()
                        for delivery in batch { try? delivery.ack() }
                    }
                }
                // Both loops sleep between rounds: cancel them on graceful shutdown rather than waiting.
                group.addTask { await cancelWhenGracefulShutdown { await self.scheduleLoop(outbox: outbox) } }
                group.addTask { await cancelWhenGracefulShutdown { await self.maintenanceLoop(outbox: outbox) } }
                group.addTask {
                    let observer = BacklogObserver(store: self.store, connection: wire.connection, logger: self.logger)
                    await cancelWhenGracefulShutdown { await observer.run(every: self.configuration.metricsIntervalSeconds) }
                }
            }
        }
    }

    /// Dispatches due retries, then sleeps until the next one (or an event) until shutdown.
    func scheduleLoop(outbox: OutboxPublisher) async {
        while !Task.isCancelled {
            var sleep = Duration.seconds(5)
            do {
                var batch: [OutboxEntry]
                repeat {
                    batch = try await store.reenqueueDue(now: configuration.clock.now())
                    if !batch.isEmpty {
                        let dispatches = batch.filter { WireMessageKind(outboundType: $0.message.type) == .stepDispatch }.count
                        Counter(label: "tasker.reenqueuer.dispatched").increment(by: dispatches)
                        // A span per batch of due retries; each retried attempt continues its trace.
                        // (The task's original trace is not stored, so a retry starts a new one.)
                        await withSpan("tasker.retries.dispatch", context: .topLevel, ofKind: .producer) { span in
                            span.attributes["tasker.retries"] = dispatches
                            let traces = Dictionary(batch.compactMap { $0.message.taskID.map { ($0, span.context) } }) { first, _ in first }
                            await outbox.publish(batch, traces: traces)
                        }
                    }
                } while batch.count >= 500
                if let next = try await store.nextRetryAt() {
                    let seconds = max(0, next.timeIntervalSinceNow)
                    sleep = min(sleep, .milliseconds(Int64(seconds * 1_000) + 1))
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("retry scheduling failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
                sleep = .seconds(1)
            }
            await wake.wait(upTo: sleep)
        }
    }

    /// Sweeps expired attempts and relays stale outbox rows, every `maintenanceIntervalSeconds`.
    func maintenanceLoop(outbox: OutboxPublisher) async {
        let interval = Duration.milliseconds(Int64(configuration.maintenanceIntervalSeconds * 1_000))
        while !Task.isCancelled {
            do {
                let swept = try await store.sweepExpired(now: configuration.clock.now(), grace: configuration.sweeperGraceSeconds)
                if !swept.isEmpty {
                    logger.info("sweeper acted on expired steps", metadata: ["tasker.messages": "\(swept.count)"])
                    await outbox.publish(swept)
                }
                let cutoff = configuration.clock.now().addingTimeInterval(-configuration.outboxRelayAfterSeconds)
                let pass = try await store.relayStaleOutbox(olderThan: cutoff, limit: 500) { entries in
                    await outbox.publishEach(entries)
                }
                PipelineMetrics.maintenance(swept: swept.count, relayed: pass.relayed)
                if pass.relayed > 0 { logger.info("outbox relay republished messages", metadata: ["tasker.messages": "\(pass.relayed)"]) }
                if pass.failed > 0 { logger.warning("outbox relay could not publish messages; will retry", metadata: ["tasker.messages": "\(pass.failed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("maintenance failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
