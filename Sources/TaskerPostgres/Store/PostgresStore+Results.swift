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

    /// Records a batch of workers' reports with a fixed number of statements, whatever the batch
    /// size: the steps' transitions, the children that became viable (dispatched), and the
    /// completion or failure of the tasks they finish.
    ///
    /// A duplicate or stale report (another attempt, a step already past that state) is ignored
    /// and changes nothing, so redelivered messages are harmless.
    ///
    /// The batch runs optimistically first (``PostgresBatch/Mode/optimistic``):
    /// two statements, the read and the write call, with no transaction around them. When a task
    /// changed between the two (another finalizer, the reenqueuer or an operator wrote to it),
    /// the write call writes nothing, and the batch runs again in a transaction that locks the
    /// tasks concerned first, in id order: concurrent finalizers serialise per task and cannot
    /// deadlock.
    public func recordResults(_ results: [StepResultMessage], now: Date) async throws -> BatchRecording {
        do {
            return try await recordOptimistically(results, now: now)
        } catch where RefusedBatch.matches(error) {
            DatabaseMetrics.staleBatch()
            logger.debug("a task changed after the batch read it; recording with locks")
        } catch where TransientConflict.matches(error) {
            // A deadlock with a writer that takes its locks in another order (the reenqueuer):
            // PostgreSQL rolled the write call back; the locked way runs it again.
            logger.debug("the optimistic batch collided with another transaction; recording with locks")
        }
        return try await inBatchTransaction { transaction, deleting in
            var batch = PostgresBatch(store: self, committing: transaction, now: now, deleting: deleting)
            return try await record(results, with: &batch, now: now)
        }
    }

    private func recordOptimistically(_ results: [StepResultMessage], now: Date) async throws -> BatchRecording {
        try await inBatchSession { connection, deleting in
            var batch = PostgresBatch(store: self, connection: connection, mode: .optimistic, now: now, deleting: deleting)
            return try await record(results, with: &batch, now: now)
        }
    }

    private func record(_ results: [StepResultMessage], with batch: inout PostgresBatch, now: Date) async throws -> BatchRecording {
        var generator = SystemRandomNumberGenerator()
        let effects = try await machine(at: now).recordResults(results, with: &batch, using: &generator)
        try await batch.finish()
        return BatchRecording(outcomes: effects.outcomes, finishedTasks: effects.finishedTasks, outbox: batch.outbox)
    }
}
