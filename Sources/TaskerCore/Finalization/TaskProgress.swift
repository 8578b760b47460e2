public import Foundation

/// Per-task step counts, kept incrementally so finalization never rescans a task's steps.
public struct TaskProgress: Sendable, Hashable {
    public var total: Int
    /// `complete` or `resolved_manually`.
    public var done: Int
    /// `error`.
    public var failed: Int
    /// `enqueued`, `in_progress` or `waiting_for_retry`.
    public var active: Int

    public init(total: Int, done: Int, failed: Int, active: Int) {
        self.total = total
        self.done = done
        self.failed = failed
        self.active = active
    }

    /// Updates the counts for one step moving `from → to` (the one definition of which states
    /// count as done, failed and active; the database keeps the same counts, migrations/0002).
    public mutating func record(from: StepState, to: StepState) {
        done += (to.satisfiesDependents ? 1 : 0) - (from.satisfiesDependents ? 1 : 0)
        failed += (to == .error ? 1 : 0) - (from == .error ? 1 : 0)
        active += (to.countsAsActive ? 1 : 0) - (from.countsAsActive ? 1 : 0)
    }

    /// How the counts change when steps move, summed over transitions (zero when nothing
    /// that is counted changed, e.g. `waiting_for_retry → enqueued`).
    public struct Delta: Sendable, Hashable {
        public var done = 0
        public var failed = 0
        public var active = 0

        public init() {}

        public mutating func record(from: StepState, to: StepState) {
            var progress = TaskProgress(total: 0, done: done, failed: failed, active: active)
            progress.record(from: from, to: to)
            (done, failed, active) = (progress.done, progress.failed, progress.active)
        }

        public var isZero: Bool { done == 0 && failed == 0 && active == 0 }

        /// The net change per task of a list of step moves.
        public static func perTask(_ moves: [(task: UUID, from: StepState, to: StepState)]) -> [UUID: Delta] {
            var deltas: [UUID: Delta] = [:]
            for move in moves { deltas[move.task, default: Delta()].record(from: move.from, to: move.to) }
            return deltas.filter { !$0.value.isZero }
        }
    }

    /// What the counts say about the task once every viable step has been dispatched.
    ///
    /// Viable steps are dispatched (and so counted as active) in the same transaction that
    /// made them viable, so a `pending` step left over when nothing is active is blocked by a
    /// permanent failure upstream: the task has failed. Independent branches keep the task
    /// running while any of their steps is active.
    public var outcome: Outcome {
        if done == total { return .complete }
        if active > 0 { return .running }
        return .failed
    }

    public enum Outcome: Sendable, Hashable {
        case complete
        case running
        case failed
    }
}
