public import Foundation
internal import PostgresNIO
public import TaskerCore

extension PostgresStore {
    /// The result of starting a batch of tasks.
    public struct BatchStart: Sendable {
        /// One per plan, in order; `nil` when the plan's template version is not registered.
        public var creations: [TaskCreation?]
        public var outbox: [OutboxEntry]
    }

    /// Creates the tasks, starts them and dispatches their root steps, with a fixed number of
    /// statements whatever the batch size.
    ///
    /// A duplicate identity stores nothing new and announces `task.request_deduplicated`.
    ///
    /// The batch is first sent as one statement (`tasker_start_batch`, migration 0018), decided
    /// as if every task were new; if one was not stored (a duplicate, a template removed since
    /// it was loaded), that statement writes nothing and the batch runs again as a transaction
    /// that creates the tasks first and decides with what it learnt.
    public func startTasks(_ plans: [TaskPlan], now: Date) async throws -> BatchStart {
        guard !plans.isEmpty else { return BatchStart(creations: [], outbox: []) }
        do {
            return try await startNewTasks(plans, now: now)
        } catch where RefusedBatch.matches(error) {
            logger.debug("a request of the batch is a duplicate or names no registered template; creating step by step")
        }
        return try await inBatchTransaction { transaction, deleting in
            let creations = try await Self.createTasks(
                plans, started: true, topology: topology.prefix, on: transaction.connection, logger: logger)
            var batch = PostgresBatch(store: self, committing: transaction, now: now, deleting: deleting)
            return try await start(plans, creations: creations, with: &batch)
        }
    }

    /// ``startTasks(_:now:)`` in one statement, for a batch whose tasks are all new.
    private func startNewTasks(_ plans: [TaskPlan], now: Date) async throws -> BatchStart {
        let create = try CreateTasksStatement(plans: plans, started: true, topology: topology.prefix)
        return try await inBatchSession { connection, deleting in
            var batch = PostgresBatch(store: self, connection: connection, mode: .creating(create), now: now, deleting: deleting)
            return try await start(plans, creations: plans.map { TaskCreation(taskID: $0.taskID, duplicate: false) }, with: &batch)
        }
    }

    /// Decides the start of `plans` given what their creation did, and applies it with `batch`.
    private func start(_ plans: [TaskPlan], creations: [TaskCreation?], with batch: inout PostgresBatch) async throws -> BatchStart {
        let effects = machine(at: batch.now).startTasks(zip(plans, creations).map { plan, creation in
            guard let creation else { return (plan, .templateMissing) }
            return (plan, creation.duplicate ? .duplicate(of: creation.taskID) : .created)
        })
        // A new task's root steps are dispatched with what its plan holds: nothing to read back.
        for (plan, creation) in zip(plans, creations) where creation?.duplicate == false {
            let children = Set(plan.edges.map(\.child))
            for step in plan.steps where !children.contains(step.id) {
                batch.preloadedDispatches[step.id] = DispatchRow(root: step, of: plan)
            }
        }
        try await batch.apply(effects)
        try await batch.finish()
        return BatchStart(creations: creations, outbox: batch.outbox)
    }
}
