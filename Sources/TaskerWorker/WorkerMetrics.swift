import Foundation
import Metrics
import TaskerCore

/// The worker's swift-metrics instruments (docs/operations.md, "Metrics").
///
/// - `tasker.worker.steps` (counter), dimensions `outcome` (`completed`, `failed` or
///   `timeout`), `namespace` and `handler`.
/// - `tasker.worker.step.duration` (timer), same dimensions: how long handlers ran.
/// - `tasker.worker.step.queue_wait` (timer), dimension `namespace`: from the dispatch
///   (`dispatched_at`, the dispatcher's clock) to the handler's start.
/// - `tasker.worker.result_batch_size` (recorder): the results each message to the results
///   exchange carried (``ResultBatcher``).
struct WorkerMetrics: Sendable {
    static let stepsLabel = "tasker.worker.steps"
    static let durationLabel = "tasker.worker.step.duration"
    static let queueWaitLabel = "tasker.worker.step.queue_wait"
    static let resultBatchSizeLabel = "tasker.worker.result_batch_size"

    /// A message with `count` results went to the results exchange.
    func publishedResults(_ count: Int) {
        Recorder(label: Self.resultBatchSizeLabel).record(count)
    }

    func started(_ dispatch: StepDispatch, at now: Date = Date()) {
        let seconds = max(0, now.timeIntervalSince(dispatch.dispatchedAt))
        Timer(label: Self.queueWaitLabel, dimensions: [("namespace", dispatch.namespace)])
            .recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    func record(_ result: StepResultMessage, dispatch: StepDispatch) {
        let outcome: String
        switch result.kind {
        case .completed: outcome = "completed"
        case .failed where result.errorKind == .timeout: outcome = "timeout"
        case .failed: outcome = "failed"
        default: return
        }
        let dimensions = [("outcome", outcome), ("namespace", dispatch.namespace), ("handler", dispatch.handler)]
        Counter(label: Self.stepsLabel, dimensions: dimensions).increment()
        if let durationMs = result.durationMs {
            Timer(label: Self.durationLabel, dimensions: dimensions).recordNanoseconds(Int64(durationMs * 1_000_000))
        }
    }
}
