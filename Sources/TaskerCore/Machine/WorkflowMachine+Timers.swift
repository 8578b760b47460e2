public import Foundation

extension WorkflowMachine {
    /// An attempt whose deadline passed (plus the grace period) with no result, as locked.
    public struct ExpiredAttempt: Sendable, Hashable {
        public var stepID: UUID
        public var taskID: UUID
        public var stepName: String
        public var state: StepState
        public var attempts: Int

        public init(stepID: UUID, taskID: UUID, stepName: String, state: StepState, attempts: Int) {
            self.stepID = stepID
            self.taskID = taskID
            self.stepName = stepName
            self.state = state
            self.attempts = attempts
        }
    }

    /// What the sweeper does with expired attempts.
    public struct Sweep: Sendable, Hashable {
        /// Running attempts that timed out: recorded as failed reports (kind `timeout`), so the
        /// retry rules apply through ``recordResults(_:snapshot:using:)`` like any failure.
        public var timeouts: [StepResultMessage]
        /// Dispatches nobody started: published again, with a new deadline.
        public var redispatch: [UUID]
    }

    /// Decides the sweeper's tick: a running attempt that missed its deadline by `grace`
    /// seconds failed as a timeout; an enqueued one whose dispatch was lost is sent again.
    public func sweep(_ expired: [ExpiredAttempt], grace: Double) -> Sweep {
        var sweep = Sweep(timeouts: [], redispatch: [])
        for attempt in expired {
            switch attempt.state {
            case .inProgress:
                sweep.timeouts.append(StepResultMessage(
                    kind: .failed, taskID: attempt.taskID, stepID: attempt.stepID, stepName: attempt.stepName,
                    attempt: attempt.attempts, workerID: "sweeper", occurredAt: now,
                    errorMessage: "no result from the worker before the deadline (+\(Int(grace))s grace)",
                    errorKind: .timeout, errorClass: "DeadlineExceeded"))
            case .enqueued:
                sweep.redispatch.append(attempt.stepID)
            default:
                continue
            }
        }
        return sweep
    }

    /// Decides the reenqueuer's tick: steps waiting for a retry whose time has come, of tasks
    /// still running, are dispatched again (their next attempt).
    public func retriesDue(_ waiting: [(stepID: UUID, nextRetryAt: Date, taskState: TaskState)]) -> [UUID] {
        waiting.filter { $0.nextRetryAt <= now && $0.taskState == .inProgress }.map(\.stepID)
    }
}
