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

    /// Creates the tasks, starts them and dispatches their root steps, in one transaction with
    /// a fixed number of statements whatever the batch size.
    ///
    /// A duplicate identity stores nothing new and announces `task.request_deduplicated`.
    public func startTasks(_ plans: [TaskPlan], now: Date) async throws -> BatchStart {
        try await inBatchTransaction { transaction, deleting in
            let creations = try await Self.createTasks(
                plans, started: true, topology: topology.prefix, on: transaction.connection, logger: logger)
            let effects = machine(at: now).startTasks(zip(plans, creations).map { plan, creation in
                guard let creation else { return (plan, .templateMissing) }
                return (plan, creation.duplicate ? .duplicate(of: creation.taskID) : .created)
            })
            var batch = PostgresBatch(store: self, committing: transaction, now: now, deleting: deleting)
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
}
