internal import Foundation
internal import PostgresNIO

/// Locks and loads what a batch of reports needs, in one prepared statement: the tasks, then
/// the reported steps, then the children of the steps reported completed, each in id order
/// (the branches of a `UNION ALL` run one after another, so every batch takes its locks in the
/// same order). Column 1 says which kind of row it is: 0 task, 1 step, 2 child (whose parent
/// id is in column 5).
///
/// A child whose unfinished parents are all among the batch's completed steps will probably
/// be dispatched by this batch: its row also carries what the dispatch needs (column 15,
/// ``PostgresStore/DispatchRow/documentSQL(stepID:)``, once per child), read under the same
/// locks, so the batch needs no statement of its own to read it. Counting those parents from
/// the rows at hand keeps a completion's cost independent of how many parents a join has.
///
/// The document is read with the statement's snapshot, taken before the locks were granted;
/// the locked row is the newest version. If another transaction changed the child while this
/// one waited for it (every parent's completion decrements the child's unfinished parents in
/// the transaction that stores the parent's results), the snapshot's row differs from the
/// locked one and no document is returned: the batch then reads it in a statement of its
/// own, whose snapshot has that transaction's results.
struct LockBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT 0, t.id, NULL::uuid, t.state, '', t.steps_total, t.steps_done, t.steps_error, t.steps_active,
               false, 0::float8, 0::float8, 0::float8, 0::float8, NULL::text
        FROM (SELECT id, state, steps_total, steps_done, steps_error, steps_active FROM tasks
              WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE) t
        UNION ALL
        SELECT 1, s.id, s.task_id, s.state, s.name, s.attempts, s.max_attempts, s.attempt_base, 0,
               s.retryable, s.backoff_base_seconds, s.backoff_max_seconds, s.backoff_jitter, s.timeout_seconds, NULL::text
        FROM (SELECT id, task_id, state, name, attempts, max_attempts, attempt_base, retryable, backoff_base_seconds,
                     backoff_max_seconds, backoff_jitter, timeout_seconds
              FROM steps WHERE id = ANY($2::uuid[]) ORDER BY id FOR UPDATE) s
        UNION ALL
        SELECT 2, c.id, c.task_id, c.state, c.parent::text, c.unfinished_parents, 0, 0, 0,
               false, 0::float8, 0::float8, 0::float8, 0::float8,
               CASE WHEN c.first AND c.unfinished_parents <= c.completing
                         AND (SELECT (v.state, v.attempts, v.unfinished_parents) = (c.state, c.attempts, c.unfinished_parents)
                              FROM steps v WHERE v.id = c.id)
                    THEN \(PostgresStore.DispatchRow.documentSQL(stepID: "c.id")) END
        FROM (SELECT l.*, count(*) OVER (PARTITION BY l.id) AS completing,
                     row_number() OVER (PARTITION BY l.id ORDER BY l.parent) = 1 AS first
              FROM (SELECT e.parent_step_id AS parent, c.id, c.task_id, c.state, c.attempts, c.unfinished_parents
                    FROM step_edges e JOIN steps c ON c.id = e.child_step_id
                    WHERE e.parent_step_id = ANY($3::uuid[]) ORDER BY c.id FOR UPDATE OF c) l) c
        """
    typealias Row = (Int, UUID, UUID?, String, String, Int, Int, Int, Int, Bool, Double, Double, Double, Double, String?)

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
