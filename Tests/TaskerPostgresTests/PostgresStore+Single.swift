import Foundation
import TaskerCore
import TaskerPostgres

/// Single-message conveniences over the store's batch operations, for tests (production
/// always works in batches).
extension PostgresStore {
    /// What happened to one step result.
    struct Recording: Sendable {
        /// `nil` when the result was recorded; otherwise why it was ignored (duplicate or stale).
        var ignoredBecause: String?
        /// The task's final state when this result finished it.
        var finishedTask: TaskState?
        var outbox: [OutboxEntry]
    }

    /// The result of a start request.
    struct Start: Sendable {
        var creation: TaskCreation
        var outbox: [OutboxEntry]
    }

    /// ``recordResults(_:now:)`` for one report.
    func recordResult(_ message: StepResultMessage, now: Date) async throws -> Recording {
        let batch = try await recordResults([message], now: now)
        var ignored: String?
        if case .ignored(let reason) = batch.outcomes.first { ignored = reason }
        return Recording(ignoredBecause: ignored, finishedTask: batch.finishedTasks[message.taskID], outbox: batch.outbox)
    }

    /// ``startTasks(_:now:)`` for one plan.
    /// - Throws: ``StoreError`` `.templateNotFound` if the plan's template version is not registered.
    func startTask(_ plan: TaskPlan, now: Date) async throws -> Start {
        let batch = try await startTasks([plan], now: now)
        guard let creation = batch.creations[0] else {
            throw StoreError(.templateNotFound, "template \(plan.template) is not registered")
        }
        return Start(creation: creation, outbox: batch.outbox)
    }
}
