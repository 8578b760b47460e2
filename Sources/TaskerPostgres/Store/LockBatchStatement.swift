internal import Foundation
internal import PostgresNIO

/// Locks and loads what a batch of reports needs, in one prepared statement: the tasks, then
/// the reported steps, then the children of the steps reported completed, each in id order
/// (the branches of a `UNION ALL` run one after another, so every batch takes its locks in the
/// same order). Column 1 says which kind of row it is: 0 task, 1 step, 2 child (whose parent
/// id is in column 5).
struct LockBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT 0, t.id, NULL::uuid, t.state, '', t.steps_total, t.steps_done, t.steps_error, t.steps_active,
               false, 0::float8, 0::float8, 0::float8, 0::float8
        FROM (SELECT id, state, steps_total, steps_done, steps_error, steps_active FROM tasks
              WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE) t
        UNION ALL
        SELECT 1, s.id, s.task_id, s.state, s.name, s.attempts, s.max_attempts, s.attempt_base, 0,
               s.retryable, s.backoff_base_seconds, s.backoff_max_seconds, s.backoff_jitter, s.timeout_seconds
        FROM (SELECT id, task_id, state, name, attempts, max_attempts, attempt_base, retryable, backoff_base_seconds,
                     backoff_max_seconds, backoff_jitter, timeout_seconds
              FROM steps WHERE id = ANY($2::uuid[]) ORDER BY id FOR UPDATE) s
        UNION ALL
        SELECT 2, c.id, c.task_id, c.state, c.parent::text, c.unfinished_parents, 0, 0, 0,
               false, 0::float8, 0::float8, 0::float8, 0::float8
        FROM (SELECT e.parent_step_id AS parent, c.id, c.task_id, c.state, c.unfinished_parents
              FROM step_edges e JOIN steps c ON c.id = e.child_step_id
              WHERE e.parent_step_id = ANY($3::uuid[]) ORDER BY c.id FOR UPDATE OF c) c
        """
    typealias Row = (Int, UUID, UUID?, String, String, Int, Int, Int, Int, Bool, Double, Double, Double, Double)

    var tasks: [UUID]
    var steps: [UUID]
    var completedSteps: [UUID]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(tasks)
        bindings.append(steps)
        bindings.append(completedSteps)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
