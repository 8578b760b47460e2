import Metrics
import TaskerCore

/// The worker's swift-metrics instruments.
///
/// - `tasker.worker.steps` (counter), dimension `outcome`: `completed`, `failed` or `timeout`.
/// - `tasker.worker.step.duration` (timer), dimension `outcome`: how long handlers ran.
struct WorkerMetrics: Sendable {
    static let stepsLabel = "tasker.worker.steps"
    static let durationLabel = "tasker.worker.step.duration"

    func record(_ result: StepResultMessage) {
        let outcome: String
        switch result.kind {
        case .completed: outcome = "completed"
        case .failed where result.errorKind == .timeout: outcome = "timeout"
        case .failed: outcome = "failed"
        default: return
        }
        let dimensions = [("outcome", outcome)]
        Counter(label: Self.stepsLabel, dimensions: dimensions).increment()
        if let durationMs = result.durationMs {
            Timer(label: Self.durationLabel, dimensions: dimensions).recordNanoseconds(Int64(durationMs * 1_000_000))
        }
    }
}
