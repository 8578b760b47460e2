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

    /// What happened to one step result.
    public struct Recording: Sendable {
        /// `nil` when the result was recorded; otherwise why it was ignored (duplicate or stale).
        public var ignoredBecause: String?
        /// The task's final state when this result finished it.
        public var finishedTask: TaskState?
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

    /// ``recordResults(_:now:)`` for one report.
    public func recordResult(_ message: StepResultMessage, now: Date) async throws -> Recording {
        let batch = try await recordResults([message], now: now)
        var ignored: String?
        if case .ignored(let reason) = batch.outcomes.first { ignored = reason }
        return Recording(ignoredBecause: ignored, finishedTask: batch.finishedTasks[message.taskID], outbox: batch.outbox)
    }

    /// The batch inside a caller's transaction; appends the messages to publish.
    func applyResults(
        _ results: [StepResultMessage],
        now: Date,
        on connection: PostgresConnection,
        messages: inout [OutboundMessage]
    ) async throws -> (outcomes: [StepResultLedger.Outcome], finished: [UUID: TaskState]) {
        guard !results.isEmpty else { return ([], [:]) }
        let taskStates = try await lockTasks(Array(Set(results.map(\.taskID))), on: connection)
        var ledger = StepResultLedger(steps: try await lockSteps(Array(Set(results.map(\.stepID))), on: connection), now: now)
        var generator = SystemRandomNumberGenerator()
        for result in results { ledger.apply(result, using: &generator) }

        try await PostgresTaskStore.writeSteps(ledger.changedRows, transitions: ledger.transitions, on: connection, logger: logger)
        messages += try ledger.events.map { try OutboundMessage.event($0, topology: topology) }
        messages += try await dispatchViableChildren(of: ledger.completed, taskStates: taskStates, now: now, on: connection)
        let finished = try await finishTasksIfDone(ledger.tasksToCheck, now: now, on: connection, messages: &messages)
        return (ledger.outcomes, finished)
    }

    /// Locks the tasks in id order and returns their states.
    func lockTasks(_ ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: TaskState] {
        let rows = try await connection.query(
            "SELECT id, state FROM tasks WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE", logger: logger)
        var states: [UUID: TaskState] = [:]
        for try await (id, state) in rows.decode((UUID, String).self) { states[id] = try PostgresTaskStore.decodeState(state) }
        return states
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

    /// Counts the completions against their children's unfinished parents and dispatches the
    /// children that have none left. Touches those children only: the cost of a completion does
    /// not depend on how many parents a join has or how wide the task is. The callers hold the
    /// tasks' locks, so of two finalizers completing the last two parents of a join exactly one
    /// sees the counter reach zero.
    func dispatchViableChildren(
        of completed: [UUID], taskStates: [UUID: TaskState], now: Date, on connection: PostgresConnection
    ) async throws -> [OutboundMessage] {
        guard !completed.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            WITH decrements AS MATERIALIZED (
                SELECT child_step_id, count(*)::int8 AS n FROM step_edges
                WHERE parent_step_id = ANY(\(completed)) GROUP BY child_step_id
            )
            UPDATE steps c SET unfinished_parents = c.unfinished_parents - d.n
            FROM decrements d
            WHERE c.id = d.child_step_id AND c.id IN (SELECT child_step_id FROM decrements)
            RETURNING c.id, c.task_id, c.unfinished_parents, c.state
            """,
            logger: logger
        )
        var ready: [UUID] = []
        for try await (id, task, unfinished, state) in rows.decode((UUID, UUID, Int, String).self)
        where unfinished <= 0 && state == StepState.pending.rawValue {
            guard let taskState = taskStates[task] else { continue }
            if StepViability.isViable(StepSnapshot(state: .pending), parentStates: [StepState](), taskState: taskState, now: now) {
                ready.append(id)
            }
        }
        return try await enqueue(ready.sorted { $0.uuidString < $1.uuidString }, now: now, on: connection)
    }

    /// Completes or fails the tasks whose step counts say so, in two statements for all of them.
    func finishTasksIfDone(
        _ ids: Set<UUID>, now: Date, on connection: PostgresConnection, messages: inout [OutboundMessage]
    ) async throws -> [UUID: TaskState] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT id, steps_total, steps_done, steps_error, steps_active FROM tasks
            WHERE id = ANY(\(Array(ids))) AND state = \(TaskState.inProgress.rawValue) ORDER BY id
            """,
            logger: logger
        )
        var moves: [PostgresTaskStore.TaskMove] = []
        for try await (id, total, done, failed, active) in rows.decode((UUID, Int, Int, Int, Int).self) {
            let progress = TaskProgress(total: total, done: done, failed: failed, active: active)
            let final: TaskState
            switch progress.outcome {
            case .running: continue
            case .complete: final = .complete
            case .failed: final = .error
            }
            let summary: JSONValue = [
                "steps_total": .int(Int64(total)), "steps_done": .int(Int64(done)), "steps_error": .int(Int64(failed)),
            ]
            moves.append(.init(id: id, from: .inProgress, to: final, metadata: summary))
            messages.append(try event(final == .complete ? .taskCompleted : .taskFailed, task: id, now: now, details: summary.objectValue))
            messages.append(try event(.taskFinalized, task: id, now: now, details: ["state": .string(final.rawValue)]))
        }
        try await PostgresTaskStore.applyTaskMoves(moves, on: connection, logger: logger)
        return Dictionary(moves.map { ($0.id, $0.to) }, uniquingKeysWith: { first, _ in first })
    }
}
