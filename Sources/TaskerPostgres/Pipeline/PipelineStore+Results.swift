public import Foundation
internal import PostgresNIO
public import TaskerCore

extension PipelineStore {
    /// What happened to a step result.
    public struct Recording: Sendable {
        /// `nil` when the result was recorded; otherwise why it was ignored (duplicate or stale).
        public var ignoredBecause: String?
        /// The task's final state when this result finished it.
        public var finishedTask: TaskState?
        public var outbox: [OutboxEntry]
    }

    /// Records a worker's report about a step attempt, in one transaction: the step's transitions,
    /// the children that became viable (dispatched), and the task's completion or failure.
    ///
    /// A duplicate or stale report (another attempt, a step already past that state) is
    /// ignored and changes nothing, so redelivered messages are harmless.
    public func recordResult(_ message: StepResultMessage, now: Date) async throws -> Recording {
        try await tasks.inTransaction { connection in
            var messages: [OutboundMessage] = []
            let outcome = try await applyResult(message, now: now, on: connection, messages: &messages)
            return Recording(
                ignoredBecause: outcome.ignoredBecause,
                finishedTask: outcome.finishedTask,
                outbox: try await insertOutbox(messages, on: connection))
        }
    }

    struct StepRow {
        var taskID: UUID
        var name: String
        var state: StepState
        var attempts: Int
        var retry: RetryPolicy
        var timeoutSeconds: Double
    }

    func lockStep(_ id: UUID, on connection: PostgresConnection) async throws -> StepRow? {
        let rows = try await connection.query(
            """
            SELECT task_id, name, state, attempts, retryable, max_attempts, backoff_base_seconds, backoff_max_seconds,
                   backoff_jitter, timeout_seconds
            FROM steps WHERE id = \(id) FOR UPDATE
            """,
            logger: logger
        )
        var found: StepRow?
        for try await row in rows.decode((UUID, String, String, Int, Bool, Int, Double, Double, Double, Double).self) {
            found = StepRow(
                taskID: row.0, name: row.1, state: try PostgresTaskStore.decodeStepState(row.2), attempts: row.3,
                retry: RetryPolicy(retryable: row.4, maxAttempts: row.5, backoff: BackoffPolicy(baseSeconds: row.6, maxSeconds: row.7, jitter: row.8)),
                timeoutSeconds: row.9)
        }
        return found
    }

    func applyResult(
        _ message: StepResultMessage,
        now: Date,
        on connection: PostgresConnection,
        messages: inout [OutboundMessage]
    ) async throws -> (ignoredBecause: String?, finishedTask: TaskState?) {
        guard let step = try await lockStep(message.stepID, on: connection) else {
            return ("unknown step \(message.stepID)", nil)
        }
        let id = message.stepID
        let workerMeta: [String: JSONValue] = ["worker_id": .string(message.workerID), "attempt": .int(Int64(message.attempt))]
        // Which attempt the step is on, and whether it has been marked as started.
        let startedThisAttempt = step.state == .inProgress && step.attempts == message.attempt
        let awaitingStart = step.state == .enqueued && step.attempts + 1 == message.attempt

        func start() async throws {
            try await PostgresTaskStore.transitionStep(
                id, to: .inProgress,
                changes: StepChanges(attemptsDelta: 1, deadline: now.addingTimeInterval(step.timeoutSeconds)),
                metadata: .object(workerMeta), on: connection, logger: logger)
            messages.append(try event(
                .stepStarted, task: step.taskID, now: now, step: id, stepName: step.name, attempt: message.attempt,
                maxAttempts: step.retry.maxAttempts))
        }

        switch message.kind {
        case .started:
            guard awaitingStart else { return (staleReason(step, message), nil) }
            try await start()
            return (nil, nil)

        case .completed:
            guard awaitingStart || startedThisAttempt else { return (staleReason(step, message), nil) }
            if awaitingStart { try await start() }
            var meta = workerMeta
            if let duration = message.durationMs { meta["duration_ms"] = .double(duration) }
            try await PostgresTaskStore.transitionStep(
                id, to: .complete, changes: StepChanges(results: message.results ?? .null), metadata: .object(meta),
                on: connection, logger: logger)
            messages.append(try event(
                .stepCompleted, task: step.taskID, now: now, step: id, stepName: step.name, attempt: message.attempt,
                maxAttempts: step.retry.maxAttempts, durationMs: message.durationMs ?? 0, results: message.results ?? .null))
            messages += try await dispatchViableChildren(of: id, task: step.taskID, now: now, on: connection)
            return (nil, try await finishTaskIfDone(step.taskID, now: now, on: connection, messages: &messages))

        case .failed:
            guard awaitingStart || startedThisAttempt else { return (staleReason(step, message), nil) }
            if awaitingStart { try await start() }
            let kind = message.errorKind ?? .retryable
            var generator = SystemRandomNumberGenerator()
            let decision = RetryDecision.decide(
                policy: step.retry, failedAttempt: message.attempt, kind: kind,
                requestedDelaySeconds: message.retryAfterSeconds, using: &generator)
            let error: JSONValue = [
                "message": .string(message.errorMessage ?? "unknown error"), "kind": .string(kind.rawValue),
                "class": .string(message.errorClass ?? "Error"), "attempt": .int(Int64(message.attempt)),
            ]
            var meta = workerMeta
            meta["error_kind"] = .string(kind.rawValue)
            meta["error_message"] = .string(message.errorMessage ?? "unknown error")
            messages.append(try event(
                .stepFailed, task: step.taskID, now: now, step: id, stepName: step.name, attempt: message.attempt,
                maxAttempts: step.retry.maxAttempts, durationMs: message.durationMs,
                errorMessage: message.errorMessage ?? "unknown error", errorKind: kind, errorClass: message.errorClass ?? "Error"))
            switch decision {
            case .retry(let delay):
                let at = now.addingTimeInterval(delay)
                meta["next_retry_at"] = .string(at.formatted(.iso8601))
                try await PostgresTaskStore.transitionStep(
                    id, to: .waitingForRetry, changes: StepChanges(lastError: error, nextRetryAt: at), metadata: .object(meta),
                    on: connection, logger: logger)
                messages.append(try event(
                    .stepRetryScheduled, task: step.taskID, now: now, step: id, stepName: step.name, attempt: message.attempt,
                    maxAttempts: step.retry.maxAttempts,
                    details: ["next_retry_at": .double(at.timeIntervalSince1970), "delay_seconds": .double(delay)]))
                return (nil, nil)
            case .giveUp(let reason):
                meta["reason"] = .string(reason)
                try await PostgresTaskStore.transitionStep(
                    id, to: .error, changes: StepChanges(lastError: error), metadata: .object(meta), on: connection, logger: logger)
                return (nil, try await finishTaskIfDone(step.taskID, now: now, on: connection, messages: &messages))
            }

        default:
            return ("unknown result kind '\(message.kind)'", nil)
        }
    }

    private func staleReason(_ step: StepRow, _ message: StepResultMessage) -> String {
        "\(message.kind) for attempt \(message.attempt) but the step is \(step.state.rawValue) after \(step.attempts) attempt(s)"
    }

    /// Counts the completion against each child's unfinished parents and dispatches the
    /// children that have none left. Touches this step's children only: the cost of a
    /// completion does not depend on how many parents a join has or how wide the task is.
    /// The decrement locks each child row, so of two finalizers completing the last two
    /// parents of a join exactly one sees the counter reach zero.
    func dispatchViableChildren(of stepID: UUID, task: UUID, now: Date, on connection: PostgresConnection) async throws -> [OutboundMessage] {
        var ready: [UUID] = []
        // Lock the children in id order first, so finalizers sharing children cannot deadlock.
        _ = try await connection.query(
            """
            SELECT c.id FROM step_edges e JOIN steps c ON c.id = e.child_step_id
            WHERE e.parent_step_id = \(stepID) ORDER BY c.id FOR UPDATE OF c
            """,
            logger: logger
        ).collectFirst(UUID.self)
        let rows = try await connection.query(
            """
            UPDATE steps c SET unfinished_parents = c.unfinished_parents - 1
            FROM step_edges e
            WHERE e.parent_step_id = \(stepID) AND c.id = e.child_step_id
            RETURNING c.id, c.unfinished_parents, c.state
            """,
            logger: logger
        )
        for try await (id, unfinished, state) in rows.decode((UUID, Int, String).self) where unfinished <= 0 {
            if state == StepState.pending.rawValue { ready.append(id) }
        }
        guard !ready.isEmpty,
            let taskState = try await connection.query("SELECT state FROM tasks WHERE id = \(task)", logger: logger)
                .collectFirst(String.self).flatMap(TaskState.init(rawValue:))
        else { return [] }
        let viable = ready.filter { _ in
            StepViability.isViable(StepSnapshot(state: .pending), parentStates: [StepState](), taskState: taskState, now: now)
        }
        return try await enqueue(viable.sorted { $0.uuidString < $1.uuidString }, now: now, on: connection)
    }

    /// Completes or fails the task when its step counts say so.
    func finishTaskIfDone(_ task: UUID, now: Date, on connection: PostgresConnection, messages: inout [OutboundMessage]) async throws -> TaskState? {
        let rows = try await connection.query(
            "SELECT state, steps_total, steps_done, steps_error, steps_active FROM tasks WHERE id = \(task) FOR UPDATE",
            logger: logger
        )
        var found: (String, Int, Int, Int, Int)?
        for try await row in rows.decode((String, Int, Int, Int, Int).self) { found = row }
        guard let found, found.0 == TaskState.inProgress.rawValue else { return nil }
        let progress = TaskProgress(total: found.1, done: found.2, failed: found.3, active: found.4)
        let final: TaskState
        switch progress.outcome {
        case .running: return nil
        case .complete: final = .complete
        case .failed: final = .error
        }
        let summary: JSONValue = [
            "steps_total": .int(Int64(progress.total)), "steps_done": .int(Int64(progress.done)),
            "steps_error": .int(Int64(progress.failed)),
        ]
        try await PostgresTaskStore.transitionTask(task, to: final, metadata: summary, on: connection, logger: logger)
        messages.append(try event(final == .complete ? .taskCompleted : .taskFailed, task: task, now: now, details: summary.objectValue))
        messages.append(try event(.taskFinalized, task: task, now: now, details: ["state": .string(final.rawValue)]))
        return final
    }
}
