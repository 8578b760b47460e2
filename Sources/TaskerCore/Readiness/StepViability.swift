public import Foundation

/// The rules that decide whether a step may be dispatched now.
public enum StepViability {
    /// A step is viable when all of these hold:
    /// 1. the task is `in_progress`;
    /// 2. the step is `pending`, or `waiting_for_retry` with `next_retry_at <= now`;
    /// 3. every parent is `complete` or `resolved_manually`;
    /// 4. another attempt is allowed (the first always is; retries need `retryable` and attempts left).
    public static func isViable(
        _ step: StepSnapshot,
        parentStates: some Sequence<StepState>,
        taskState: TaskState,
        now: Date
    ) -> Bool {
        guard taskState == .inProgress else { return false }
        switch step.state {
        case .pending:
            break
        case .waitingForRetry:
            guard let due = step.nextRetryAt, due <= now else { return false }
        default:
            return false
        }
        guard parentStates.allSatisfy(\.satisfiesDependents) else { return false }
        return step.retry.allowsAttempt(after: step.attempts)
    }

    /// Indices of the viable steps among `steps`, whose DAG is `graph`.
    public static func viableSteps(
        _ steps: [StepSnapshot],
        graph: WorkflowGraph,
        taskState: TaskState,
        now: Date,
        among candidates: [Int]? = nil
    ) -> [Int] {
        let pool = candidates ?? Array(steps.indices)
        return pool.filter { index in
            isViable(steps[index], parentStates: graph.parents[index].lazy.map { steps[$0].state }, taskState: taskState, now: now)
        }
    }
}
