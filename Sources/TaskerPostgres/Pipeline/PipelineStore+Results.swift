public import Foundation
internal import PostgresNIO
public import TaskerCore

extension PipelineStore {
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
        try await tasks.inTransaction { connection in
            var messages: [OutboundMessage] = []
            let applied = try await applyResults(results, now: now, on: connection, messages: &messages)
            return BatchRecording(
                outcomes: applied.outcomes, finishedTasks: applied.finished,
                outbox: try await insertOutbox(messages, on: connection))
        }
    }

    /// The batch inside a caller's transaction; appends the messages to publish.
    ///
    /// This is the PostgreSQL driver of ``WorkflowMachine``: it locks and loads what the batch
    /// needs (tasks in id order, then the reported steps, then their children), lets the
    /// machine decide, and applies the effects with a fixed number of statements.
    func applyResults(
        _ results: [StepResultMessage],
        now: Date,
        on connection: PostgresConnection,
        messages: inout [OutboundMessage]
    ) async throws -> (outcomes: [StepResultLedger.Outcome], finished: [UUID: TaskState]) {
        guard !results.isEmpty else { return ([], [:]) }
        let snapshot = try await loadSnapshot(for: results, on: connection)
        var generator = SystemRandomNumberGenerator()
        let effects = WorkflowMachine(now: now).recordResults(results, snapshot: snapshot, using: &generator)
        try await apply(effects, now: now, on: connection, messages: &messages)
        return (effects.outcomes, effects.finishedTasks)
    }

    /// Locks and loads the rows a batch of reports needs.
    func loadSnapshot(for results: [StepResultMessage], on connection: PostgresConnection) async throws -> WorkflowSnapshot {
        let tasks = try await lockTasks(Array(Set(results.map(\.taskID))), on: connection)
        let steps = try await lockSteps(Array(Set(results.map(\.stepID))), on: connection)
        // Fan-in only follows completions: children of steps reported started or failed are not read.
        let completing = Set(results.filter { $0.kind == .completed }.map(\.stepID))
        let (children, childRows) = try await lockChildren(of: steps.map(\.id).filter(completing.contains), on: connection)
        return WorkflowSnapshot(tasks: tasks, steps: steps, children: children, childRows: childRows)
    }

    /// Applies the machine's decisions: step rows and audit rows, fan-in counts, dispatches of
    /// the children that became viable, task moves, and the events (as outbox messages).
    func apply(_ effects: WorkflowEffects, now: Date, on connection: PostgresConnection, messages: inout [OutboundMessage]) async throws {
        try await PostgresTaskStore.writeSteps(effects.stepRows, transitions: effects.transitions, on: connection, logger: logger)
        if !effects.unfinishedParents.isEmpty {
            let ids = Array(effects.unfinishedParents.keys)
            try await connection.query(
                """
                UPDATE steps s SET unfinished_parents = c.n
                FROM unnest(\(ids)::uuid[], \(ids.map { effects.unfinishedParents[$0]! })::int8[]) AS c(id, n)
                WHERE s.id = c.id AND s.id = ANY(\(ids))
                """,
                logger: logger)
        }
        messages += try effects.events.map { try OutboundMessage.event($0, topology: topology) }
        messages += try await enqueue(effects.dispatch, now: now, on: connection)
        try await PostgresTaskStore.applyTaskMoves(effects.taskMoves, on: connection, logger: logger)
    }

    /// Locks the tasks in id order and returns their states and step counts.
    func lockTasks(_ ids: [UUID], on connection: PostgresConnection) async throws -> [WorkflowSnapshot.Task] {
        let rows = try await connection.query(
            """
            SELECT id, state, steps_total, steps_done, steps_error, steps_active FROM tasks
            WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """,
            logger: logger)
        var tasks: [WorkflowSnapshot.Task] = []
        for try await (id, state, total, done, failed, active) in rows.decode((UUID, String, Int, Int, Int, Int).self) {
            tasks.append(.init(
                id: id, state: try PostgresTaskStore.decodeState(state),
                progress: TaskProgress(total: total, done: done, failed: failed, active: active)))
        }
        return tasks
    }

    /// Locks the steps in id order. Their sort keys are left at 0: the insert adds the current
    /// maximum, read after the locks are held (a locking statement's subqueries may be stale).
    func lockSteps(_ ids: [UUID], on connection: PostgresConnection) async throws -> [StepResultLedger.Step] {
        let rows = try await connection.query(
            """
            SELECT id, task_id, name, state, attempts, retryable, max_attempts, backoff_base_seconds, backoff_max_seconds,
                   backoff_jitter, timeout_seconds
            FROM steps WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """,
            logger: logger
        )
        var steps: [StepResultLedger.Step] = []
        for try await row in rows.decode((UUID, UUID, String, String, Int, Bool, Int, Double, Double, Double, Double).self) {
            steps.append(StepResultLedger.Step(
                id: row.0, taskID: row.1, name: row.2, state: try PostgresTaskStore.decodeStepState(row.3), attempts: row.4,
                retry: RetryPolicy(retryable: row.5, maxAttempts: row.6, backoff: BackoffPolicy(baseSeconds: row.7, maxSeconds: row.8, jitter: row.9)),
                timeoutSeconds: row.10, lastSortKey: 0))
        }
        return steps
    }

    /// Locks the children of `parents` (in id order, after their tasks) and returns the edges
    /// and the children's fan-in rows. Reads only those children: the cost of a completion does
    /// not depend on how many parents a join has or how wide the task is.
    func lockChildren(of parents: [UUID], on connection: PostgresConnection) async throws -> ([UUID: [UUID]], [WorkflowSnapshot.Child]) {
        guard !parents.isEmpty else { return ([:], []) }
        let rows = try await connection.query(
            """
            SELECT e.parent_step_id, c.id, c.task_id, c.state, c.unfinished_parents
            FROM step_edges e JOIN steps c ON c.id = e.child_step_id
            WHERE e.parent_step_id = ANY(\(parents))
            ORDER BY c.id FOR UPDATE OF c
            """,
            logger: logger)
        var children: [UUID: [UUID]] = [:]
        var childRows: [WorkflowSnapshot.Child] = []
        for try await (parent, id, task, state, unfinished) in rows.decode((UUID, UUID, UUID, String, Int).self) {
            children[parent, default: []].append(id)
            childRows.append(.init(id: id, taskID: task, state: try PostgresTaskStore.decodeStepState(state), unfinishedParents: unfinished))
        }
        return (children, childRows)
    }
}
