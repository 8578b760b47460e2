internal import Foundation
internal import PostgresNIO
internal import TaskerCore

extension PostgresStore {
    /// Writes step changes decided by the caller, which holds the steps' row locks and has
    /// checked every move against ``StepState/machine``: each step's new row, and its audit rows,
    /// in two statements whatever the count. The newest audit row of each step becomes its
    /// `most_recent`; `sortKey`s are added to the step's stored maximum (pass them relative
    /// to 0 when that maximum is unknown, as ``StepResultLedger`` does with `lastSortKey: 0`).
    ///
    /// Both statements look rows up by id through the primary keys: joining data-modifying
    /// CTEs instead lets the planner pick nested loops over CTE scans, quadratic in the count.
    static func writeSteps(
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

extension PostgresStore {
    /// Applies task transitions in one statement: each task's state (and `completed_at` when it
    /// finishes) and one audit row each. The caller must hold the tasks' row locks and have
    /// checked each move against ``TaskState/machine``; no move is re-validated here.
    static func applyTaskMoves(_ moves: [WorkflowEffects.TaskMove], on connection: PostgresConnection, logger: Logger) async throws {
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
