internal import Foundation
internal import Logging
internal import PostgresNIO
internal import TaskerCore

/// One batch of ``WorkflowMachine`` in a PostgreSQL transaction: the production
/// ``WorkflowDriver``. It locks rows in a fixed order (tasks, then steps, then children, each
/// in id order), so concurrent finalizers serialise per task and cannot deadlock, and applies
/// effects with a fixed number of statements whatever the batch size. The messages that
/// announce the effects accumulate in ``messages``, for the caller to write to the outbox in
/// the same transaction.
struct PostgresBatch: WorkflowDriver {
    let store: PostgresStore
    let connection: PostgresConnection
    /// The batch's time: dispatch deadlines and event times.
    let now: Date
    /// Dispatches and lifecycle events to publish once the transaction commits.
    var messages: [OutboundMessage] = []

    var logger: Logger { store.logger }

    /// Locks and loads the rows a batch of reports needs.
    mutating func loadSnapshot(for reports: [StepResultMessage]) async throws -> WorkflowSnapshot {
        let tasks = try await lockTasks(Array(Set(reports.map(\.taskID))))
        let steps = try await lockSteps(Array(Set(reports.map(\.stepID))))
        // Fan-in only follows completions: children of steps reported started or failed are not read.
        let completing = Set(reports.filter { $0.kind == .completed }.map(\.stepID))
        let (children, childRows) = try await lockChildren(of: steps.map(\.id).filter(completing.contains))
        return WorkflowSnapshot(tasks: tasks, steps: steps, children: children, childRows: childRows)
    }

    /// Applies the machine's decisions: step rows and audit rows, fan-in counts, dispatches of
    /// the children that became viable, task moves, and the events (as messages).
    mutating func apply(_ effects: WorkflowEffects) async throws {
        try await PostgresStore.writeSteps(effects.stepRows, transitions: effects.transitions, on: connection, logger: logger)
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
        messages += try effects.events.filter { store.events.publishes($0.event) }
            .map { try OutboundMessage.event($0, topology: store.topology) }
        messages += try await store.enqueue(effects.dispatch, now: now, on: connection)
        try await PostgresStore.applyTaskMoves(effects.taskMoves, on: connection, logger: logger)
    }

    /// Locks the tasks in id order and returns their states and step counts.
    func lockTasks(_ ids: [UUID]) async throws -> [WorkflowSnapshot.Task] {
        let rows = try await connection.query(
            """
            SELECT id, state, steps_total, steps_done, steps_error, steps_active FROM tasks
            WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """,
            logger: logger)
        var tasks: [WorkflowSnapshot.Task] = []
        for try await (id, state, total, done, failed, active) in rows.decode((UUID, String, Int, Int, Int, Int).self) {
            tasks.append(.init(
                id: id, state: try PostgresStore.decodeState(state),
                progress: TaskProgress(total: total, done: done, failed: failed, active: active)))
        }
        return tasks
    }

    /// Locks the steps in id order. Their sort keys are left at 0: the insert adds the current
    /// maximum, read after the locks are held (a locking statement's subqueries may be stale).
    func lockSteps(_ ids: [UUID]) async throws -> [StepResultLedger.Step] {
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
                id: row.0, taskID: row.1, name: row.2, state: try PostgresStore.decodeStepState(row.3), attempts: row.4,
                retry: RetryPolicy(retryable: row.5, maxAttempts: row.6, backoff: BackoffPolicy(baseSeconds: row.7, maxSeconds: row.8, jitter: row.9)),
                timeoutSeconds: row.10, lastSortKey: 0))
        }
        return steps
    }

    /// Locks the children of `parents` (in id order, after their tasks) and returns the edges
    /// and the children's fan-in rows. Reads only those children: the cost of a completion does
    /// not depend on how many parents a join has or how wide the task is.
    func lockChildren(of parents: [UUID]) async throws -> ([UUID: [UUID]], [WorkflowSnapshot.Child]) {
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
            childRows.append(.init(id: id, taskID: task, state: try PostgresStore.decodeStepState(state), unfinishedParents: unfinished))
        }
        return (children, childRows)
    }
}
