public import Foundation
internal import PostgresNIO
public import TaskerCore

extension PipelineStore {
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
        try await tasks.inTransaction { connection in
            let creations = try await PostgresTaskStore.createTasks(
                plans, started: true, topology: topology.prefix, on: connection, logger: logger)
            let effects = WorkflowMachine(now: now).startTasks(zip(plans, creations).map { plan, creation in
                guard let creation else { return (plan, .templateMissing) }
                return (plan, creation.duplicate ? .duplicate(of: creation.taskID) : .created)
            })
            var messages: [OutboundMessage] = []
            try await apply(effects, now: now, on: connection, messages: &messages)
            return BatchStart(creations: creations, outbox: try await insertOutbox(messages, on: connection))
        }
    }
}
