public import Foundation

/// What to do with a task after a step result, from its steps' states.
public enum FinalizationDecision: Sendable, Hashable {
    /// Every step is `complete` or `resolved_manually`: the task is complete.
    case complete
    /// These steps (indices) are viable: dispatch them.
    case dispatch([Int])
    /// Steps are enqueued or running and nothing else can start: wait for their results.
    case wait
    /// Nothing can run until the earliest `waiting_for_retry` step is due at this time.
    case scheduleRetry(at: Date)
    /// Only permanent failures and the steps they block remain: the task has failed.
    case error

    /// Evaluates a task's steps.
    ///
    /// Independent branches keep running after a permanent failure: as long as a step is viable,
    /// active or waiting for a retry, the task is not failed.
    public static func evaluate(
        steps: [StepSnapshot],
        graph: WorkflowGraph,
        taskState: TaskState,
        now: Date
    ) -> FinalizationDecision {
        if steps.allSatisfy(\.state.satisfiesDependents) { return .complete }
        let viable = StepViability.viableSteps(steps, graph: graph, taskState: taskState, now: now)
        if !viable.isEmpty { return .dispatch(viable) }
        if steps.contains(where: \.state.isActive) { return .wait }
        let retryTimes = steps.compactMap { step -> Date? in
            guard step.state == .waitingForRetry, step.retry.allowsAttempt(after: step.attempts) else { return nil }
            return step.nextRetryAt ?? now
        }
        if let earliest = retryTimes.min() { return .scheduleRetry(at: earliest) }
        return .error
    }
}
