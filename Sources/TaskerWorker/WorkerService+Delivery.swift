import Foundation
import Logging
import TaskerAMQP
import TaskerCore
import TaskerWire
import Tracing

extension WorkerService {
    /// Handles one delivery: decode, publish `started`, run, publish the result (through
    /// `results`), acknowledge. `slot` is released once the handler has returned.
    func process(
        _ delivery: AMQPDelivery, from queue: String, publishing: WirePublisher,
        results: @Sendable (StepResultMessage) async throws -> Void, slot: StepSlots.Slot
    ) async {
        let dispatch: StepDispatch
        do {
            dispatch = try WireCoding.decode(StepDispatch.self, from: Data(delivery.body))
        } catch {
            await deadLetter(delivery, from: queue, reason: error.description, publishing: publishing)
            return
        }
        guard dispatch.schemaVersion == WireCoding.schemaVersion else {
            await deadLetter(
                delivery,
                from: queue,
                reason: "unsupported schema_version \(dispatch.schemaVersion) (this worker understands \(WireCoding.schemaVersion))",
                publishing: publishing
            )
            return
        }
        // The attempt's span continues the trace the dispatch carries; its context goes out with
        // `step.started` and the result (WirePublisher adds the current span's headers).
        await withSpan("tasker.step.attempt", context: WireTracing.context(from: delivery.properties.headers), ofKind: .consumer) { span in
            if span.isRecording {
                span.attributes["tasker.task.id"] = "\(dispatch.taskID)"
                span.attributes["tasker.step.id"] = "\(dispatch.stepID)"
                span.attributes["tasker.step.name"] = dispatch.stepName
                span.attributes["tasker.step.handler"] = dispatch.handler
                span.attributes["tasker.step.attempt"] = dispatch.attempt
            }
            await attempt(dispatch, delivery: delivery, publishing: publishing, results: results, slot: slot)
        }
    }

    /// Runs one decoded dispatch: publish `started`, run, publish the result, acknowledge.
    private func attempt(
        _ dispatch: StepDispatch, delivery: AMQPDelivery, publishing: WirePublisher,
        results: @Sendable (StepResultMessage) async throws -> Void, slot: StepSlots.Slot
    ) async {
        // Every line an attempt logs is at debug level: the step's metadata is attached only
        // when they are emitted (writing it costs a rendering of the handler's metadata).
        let logger = self.logger.logLevel <= .debug
            ? self.logger.withStepMetadata(taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName, attempt: dispatch.attempt)
            : self.logger

        metrics.started(dispatch)
        let started = executor.started(dispatch)
        // `step.started` goes out only if the step is still running after the delay (every start
        // when the delay is zero); it is confirmed while the handler runs, and reaches the
        // results queue before the result.
        let report = StartReport(after: configuration.startedReportDelay) { try await publishing.publish(started) }
        let result = await runningSteps.run(dispatch) { cancellation in
            await self.executor.execute(dispatch, logger: self.logger, cancellation: cancellation)
        }
        // The handler is done: the next dispatch may start while this one's result is published.
        slot.release()
        let reportFailure = await report.finish()
        guard let result else {
            // An operator cancelled the attempt (the step is `cancelled` in the database):
            // nothing to report.
            logger.debug("step cancelled by an operator; no result reported")
            acknowledge(delivery, logger: logger)
            return
        }
        if let failure = reportFailure {
            logger.debug("publishing step.started failed; step returned for redelivery", metadata: [LogKeys.error: "\(String(reflecting: failure))"])
            returnForRedelivery(delivery, logger: logger)
            return
        }
        logger.debug("step ran", metadata: ["tasker.step.handler": "\(dispatch.handler)"])

        if Task.isCancelled && result.kind == .failed {
            // The worker is being cancelled: the failure is most likely the cancellation itself.
            // Leave the dispatch unacknowledged so the broker hands it to another worker.
            logger.debug("step abandoned: worker cancelled")
            return
        }
        do {
            try await results(result)
        } catch {
            logger.debug("step result not published", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            returnForRedelivery(delivery, logger: logger)
            return
        }
        metrics.record(result, dispatch: dispatch)
        logger.debug(
            "step finished",
            metadata: [
                "tasker.step.outcome": "\(result.kind)",
                "tasker.step.duration_ms": "\(result.durationMs ?? 0)",
                "tasker.step.error_kind": "\(result.errorKind?.rawValue ?? "")",
            ]
        )
        acknowledge(delivery, logger: logger)
    }

    /// Publishes the original message to the dead-letter exchange with the reason, then acknowledges it.
    private func deadLetter(_ delivery: AMQPDelivery, from sourceQueue: String, reason: String, publishing: WirePublisher) async {
        do {
            try await publishing.deadLetter(delivery, reason: reason, sourceQueue: sourceQueue)
        } catch {
            logger.debug("dead-lettering failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            returnForRedelivery(delivery, logger: logger)
            return
        }
        logger.info("undecodable step dispatch dead-lettered", metadata: [LogKeys.error: "\(reason)", "amqp.queue": "\(sourceQueue)"])
        acknowledge(delivery, logger: logger)
    }

    private func acknowledge(_ delivery: AMQPDelivery, logger: Logger) {
        do {
            try delivery.ack()
        } catch {
            logger.debug("acknowledgement failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
    }

    /// Requeues a delivery whose outcome could not be published. The quorum queue's delivery
    /// limit dead-letters it if this keeps happening. If the consumer's channel is gone, the
    /// broker requeues it anyway and the reject is dropped.
    private func returnForRedelivery(_ delivery: AMQPDelivery, logger: Logger) {
        do {
            try delivery.reject(requeue: true)
        } catch {
            logger.debug("reject failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
    }
}
