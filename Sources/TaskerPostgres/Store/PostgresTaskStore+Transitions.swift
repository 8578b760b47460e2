public import Foundation
package import PostgresNIO
public import TaskerCore

extension PostgresTaskStore {
    /// Moves a task to `state`, appending one audit row, with a compare-and-set on the current state.
    ///
    /// A transition to the current state is an idempotent no-op (`.unchanged`); one the state machine
    /// does not allow throws ``StoreError`` `.transitionRefused` and writes nothing.
    @discardableResult
    public func transitionTask(_ id: UUID, to state: TaskState, metadata: JSONValue = .object([:])) async throws -> TransitionOutcome {
        try await inTransaction { connection in
            try await Self.transitionTask(id, to: state, metadata: metadata, on: connection, logger: logger)
        }
    }

    /// ``transitionTask(_:to:metadata:)`` inside a caller's transaction.
    @discardableResult
    package static func transitionTask(
        _ id: UUID,
        to state: TaskState,
        metadata: JSONValue = .object([:]),
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TransitionOutcome {
        // The row lock serialises concurrent transitions of one task; the next statement runs
        // with a fresh snapshot that sees whatever the previous holder committed.
        guard let raw = try await connection.query("SELECT state FROM tasks WHERE id = \(id) FOR UPDATE", logger: logger)
            .collectFirst(String.self)
        else { throw StoreError(.notFound, "task \(id) does not exist") }
        let current = try decodeState(raw)
        do {
            if try TaskState.machine.decide(from: current, to: state) == .noChange { return .unchanged }
        } catch {
            throw StoreError(.transitionRefused, error.description)
        }
        let finished = state.isFinished
        let sortKey = try await connection.query(
            """
            WITH cleared AS (
                UPDATE task_transitions SET most_recent = false WHERE task_id = \(id) AND most_recent RETURNING sort_key
            ), updated AS (
                UPDATE tasks SET state = \(state.rawValue), updated_at = now(),
                       completed_at = CASE WHEN \(finished) THEN now() ELSE NULL END
                WHERE id = \(id)
            )
            INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT \(id), \(current.rawValue), \(state.rawValue),
                   COALESCE((SELECT max(sort_key) FROM cleared), (SELECT max(sort_key) FROM task_transitions WHERE task_id = \(id)), 0) + 1,
                   true, \(metadata.canonicalString)::jsonb
            RETURNING sort_key
            """,
            logger: logger
        ).collectFirst(Int.self)
        logger.debug("task transition", metadata: [LogKeys.taskID: "\(id)", "tasker.transition": "\(current.rawValue) -> \(state.rawValue)"])
        return .applied(from: current.rawValue, sortKey: sortKey ?? 0)
    }

    /// Moves a step to `state` with a compare-and-set on its current state, writing `changes` and
    /// appending one audit row in the same transaction.
    ///
    /// Of several concurrent callers asking for the same transition exactly one gets `.applied`;
    /// the others see `.unchanged`. A transition the state machine does not allow throws
    /// ``StoreError`` `.transitionRefused` and leaves no row behind.
    @discardableResult
    public func transitionStep(
        _ id: UUID,
        to state: StepState,
        changes: StepChanges = .init(),
        metadata: JSONValue = .object([:])
    ) async throws -> TransitionOutcome {
        try await inTransaction { connection in
            try await Self.transitionStep(id, to: state, changes: changes, metadata: metadata, on: connection, logger: logger)
        }
    }

    /// ``transitionStep(_:to:changes:metadata:)`` inside a caller's transaction.
    @discardableResult
    package static func transitionStep(
        _ id: UUID,
        to state: StepState,
        changes: StepChanges = .init(),
        metadata: JSONValue = .object([:]),
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TransitionOutcome {
        guard let raw = try await connection.query("SELECT state FROM steps WHERE id = \(id) FOR UPDATE", logger: logger)
            .collectFirst(String.self)
        else { throw StoreError(.notFound, "step \(id) does not exist") }
        let current = try decodeStepState(raw)
        do {
            if try StepState.machine.decide(from: current, to: state) == .noChange { return .unchanged }
        } catch {
            throw StoreError(.transitionRefused, error.description)
        }
        var delta = TaskProgress.Delta()
        delta.record(from: current, to: state)
        let retryAt = state == .waitingForRetry ? changes.nextRetryAt : nil
        let deadline = state.hasDeadline ? changes.deadline : nil
        let sortKey = try await connection.query(
            """
            WITH cleared AS (
                UPDATE step_transitions SET most_recent = false WHERE step_id = \(id) AND most_recent RETURNING sort_key
            ), updated AS (
                UPDATE steps SET state = \(state.rawValue), updated_at = now(),
                       attempts = CASE WHEN \(changes.resetAttempts) THEN 0 ELSE attempts + \(changes.attemptsDelta) END,
                       inputs = COALESCE(\(changes.inputs?.canonicalString)::jsonb, inputs),
                       results = COALESCE(\(changes.results?.canonicalString)::jsonb, results),
                       last_error = COALESCE(\(changes.lastError?.canonicalString)::jsonb, last_error),
                       next_retry_at = \(retryAt),
                       deadline = \(deadline)
                WHERE id = \(id)
                RETURNING task_id
            ), counted AS (
                UPDATE tasks SET steps_done = steps_done + \(delta.done), steps_error = steps_error + \(delta.failed),
                                 steps_active = steps_active + \(delta.active)
                WHERE id = (SELECT task_id FROM updated)
            )
            INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT \(id), updated.task_id, \(current.rawValue), \(state.rawValue),
                   COALESCE((SELECT max(sort_key) FROM cleared), (SELECT max(sort_key) FROM step_transitions WHERE step_id = \(id)), 0) + 1,
                   true, \(metadata.canonicalString)::jsonb
            FROM updated
            RETURNING sort_key
            """,
            logger: logger
        ).collectFirst(Int.self)
        logger.debug("step transition", metadata: [LogKeys.stepID: "\(id)", "tasker.transition": "\(current.rawValue) -> \(state.rawValue)"])
        return .applied(from: current.rawValue, sortKey: sortKey ?? 0)
    }
}

extension PostgresTaskStore {
    /// Writes step changes decided by the caller, which holds the steps' row locks and has
    /// checked every move against ``StepState/machine``: each step's new row, and its audit rows,
    /// in two statements whatever the count. The newest audit row of each step becomes its
    /// `most_recent`; `sortKey`s are added to the step's stored maximum (pass them relative
    /// to 0 when that maximum is unknown, as ``StepResultLedger`` does with `lastSortKey: 0`).
    ///
    /// Both statements look rows up by id through the primary keys: joining data-modifying
    /// CTEs instead lets the planner pick nested loops over CTE scans, quadratic in the count.
    package static func writeSteps(
        _ rows: [StepResultLedger.StepRow],
        transitions: [StepResultLedger.Transition],
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !rows.isEmpty else { return }
        let ids = rows.map(\.id)
        // The tasks' step counts move with their steps (the caller holds the tasks' locks
        // whenever a count changes; a retry's waiting_for_retry → enqueued changes none).
        let deltas = TaskProgress.Delta.perTask(transitions.map { ($0.taskID, $0.from, $0.to) })
        let counted = Array(deltas.keys)
        // Arrays cannot carry NULL through these binds: '' and -1 stand for "none".
        try await connection.query(
            """
            WITH counted AS (
                UPDATE tasks t SET steps_done = t.steps_done + d.done, steps_error = t.steps_error + d.failed,
                                   steps_active = t.steps_active + d.active
                FROM unnest(\(counted)::uuid[], \(counted.map { deltas[$0]!.done })::int8[],
                            \(counted.map { deltas[$0]!.failed })::int8[], \(counted.map { deltas[$0]!.active })::int8[])
                     AS d(id, done, failed, active)
                WHERE t.id = d.id AND t.id = ANY(\(counted))
            ), input AS (
                SELECT * FROM unnest(\(ids)::uuid[], \(rows.map(\.state.rawValue))::text[], \(rows.map(\.attempts))::int8[],
                                     \(rows.map { $0.results?.canonicalString ?? "" })::text[],
                                     \(rows.map { $0.lastError?.canonicalString ?? "" })::text[],
                                     \(rows.map { $0.nextRetryAt?.timeIntervalSince1970 ?? -1 })::float8[],
                                     \(rows.map { $0.deadline?.timeIntervalSince1970 ?? -1 })::float8[])
                    AS i(id, state, attempts, results, last_error, next_retry_at, deadline)
            ), cleared AS (
                UPDATE step_transitions SET most_recent = false WHERE step_id = ANY(\(ids)) AND most_recent
            )
            UPDATE steps s SET state = i.state, attempts = i.attempts, updated_at = now(),
                   results = COALESCE(NULLIF(i.results, '')::jsonb, s.results),
                   last_error = COALESCE(NULLIF(i.last_error, '')::jsonb, s.last_error),
                   next_retry_at = CASE WHEN i.next_retry_at < 0 THEN NULL ELSE to_timestamp(i.next_retry_at) END,
                   deadline = CASE WHEN i.deadline < 0 THEN NULL ELSE to_timestamp(i.deadline) END
            FROM input i WHERE s.id = i.id AND s.id = ANY(\(ids))
            """,
            logger: logger
        )
        var newest: [UUID: Int] = [:]
        for (index, transition) in transitions.enumerated() { newest[transition.stepID] = index }
        let mostRecent = transitions.indices.map { newest[transitions[$0].stepID] == $0 }
        try await connection.query(
            """
            INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT i.step_id, i.task_id, i.from_state, i.to_state,
                   COALESCE((SELECT max(t.sort_key) FROM step_transitions t WHERE t.step_id = i.step_id), 0) + i.sort_offset,
                   i.most_recent, i.metadata::jsonb
            FROM unnest(\(transitions.map(\.stepID))::uuid[], \(transitions.map(\.taskID))::uuid[],
                        \(transitions.map(\.from.rawValue))::text[], \(transitions.map(\.to.rawValue))::text[],
                        \(transitions.map(\.sortKey))::int8[], \(mostRecent)::bool[],
                        \(transitions.map(\.metadata.canonicalString))::text[])
                 AS i(step_id, task_id, from_state, to_state, sort_offset, most_recent, metadata)
            """,
            logger: logger
        )
    }
}

extension PostgresTaskStore {
    /// Applies task transitions in one statement: each task's state (and `completed_at` when it
    /// finishes) and one audit row each. The caller must hold the tasks' row locks and have
    /// checked each move against ``TaskState/machine``; no move is re-validated here.
    package static func applyTaskMoves(_ moves: [WorkflowEffects.TaskMove], on connection: PostgresConnection, logger: Logger) async throws {
        guard !moves.isEmpty else { return }
        let ids = moves.map(\.id)
        try await connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(ids)::uuid[], \(moves.map(\.to.rawValue))::text[], \(moves.map(\.to.isFinished))::bool[])
                    AS i(id, to_state, finished)
            ), cleared AS (
                UPDATE task_transitions SET most_recent = false WHERE task_id = ANY(\(ids)) AND most_recent
            )
            UPDATE tasks t SET state = i.to_state, updated_at = now(), completed_at = CASE WHEN i.finished THEN now() ELSE NULL END
            FROM input i WHERE t.id = i.id AND t.id = ANY(\(ids))
            """,
            logger: logger
        )
        try await connection.query(
            """
            INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT i.id, i.from_state, i.to_state,
                   COALESCE((SELECT max(t.sort_key) FROM task_transitions t WHERE t.task_id = i.id), 0) + 1, true, i.metadata::jsonb
            FROM unnest(\(ids)::uuid[], \(moves.map(\.from.rawValue))::text[], \(moves.map(\.to.rawValue))::text[],
                        \(moves.map(\.metadata.canonicalString))::text[]) AS i(id, from_state, to_state, metadata)
            """,
            logger: logger
        )
        logger.debug("task transitions", metadata: ["tasker.task.count": "\(moves.count)"])
    }
}
