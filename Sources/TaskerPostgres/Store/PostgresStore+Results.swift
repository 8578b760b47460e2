public import Foundation
internal import PostgresNIO
public import TaskerCore

extension PostgresStore {
    /// What happened to a batch of step results.
    public struct BatchRecording: Sendable {
        /// One per message, in order: applied, or ignored with the reason (duplicate, stale, unknown step).
        public var outcomes: [StepResultLedger.Outcome]
        /// Tasks this batch finished, with their final state.
        public var finishedTasks: [UUID: TaskState]
        public var outbox: [OutboxEntry]
    }

    /// Records a batch of workers' reports in one transaction with a fixed number of statements,
    /// whatever the batch size: the steps' transitions, the children that became viable
    /// (dispatched), and the completion or failure of the tasks they finish.
    ///
    /// A duplicate or stale report (another attempt, a step already past that state) is ignored
    /// and changes nothing, so redelivered messages are harmless. The tasks concerned are locked
    /// first, in id order: concurrent finalizers serialise per task and cannot deadlock.
    public func recordResults(_ results: [StepResultMessage], now: Date) async throws -> BatchRecording {
        try await inBatchTransaction { transaction, deleting in
            var batch = PostgresBatch(store: self, committing: transaction, now: now, deleting: deleting)
            var generator = SystemRandomNumberGenerator()
            let effects = try await machine(at: now).recordResults(results, with: &batch, using: &generator)
            try await batch.finish()
            return BatchRecording(
                outcomes: effects.outcomes, finishedTasks: effects.finishedTasks,
                outbox: batch.outbox)
        }
    }
}
