public import Foundation

/// What readiness and finalization need to know about one step.
public struct StepSnapshot: Sendable, Hashable {
    public var state: StepState
    /// Executions started so far.
    public var attempts: Int
    public var retry: RetryPolicy
    /// When a `waiting_for_retry` step may run again.
    public var nextRetryAt: Date?

    public init(state: StepState, attempts: Int = 0, retry: RetryPolicy = .init(), nextRetryAt: Date? = nil) {
        self.state = state
        self.attempts = attempts
        self.retry = retry
        self.nextRetryAt = nextRetryAt
    }
}
