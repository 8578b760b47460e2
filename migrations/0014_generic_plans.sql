-- Hot path (issue 10), third round: plan the hot statements once per connection.
--
-- PostgreSQL plans a statement with parameters for their values ("custom plan") until a
-- generic plan looks no more costly. With array parameters the custom plans always look
-- cheaper (the planner knows each array's length), so every call of the finalizer's and the
-- coordinator's statements was planned again: measured on an idle pipeline, 0.75 ms of
-- planning for a 0.11 ms lock-and-load and ~0.45 ms for the statements of one write call,
-- more than they took to run. `force_generic_plan` on the functions of the hot path makes
-- them use the plan PL/pgSQL caches for the session. Every plan involved is an index lookup
-- by key (`= ANY(array)` on primary keys and unique indexes), the right plan for any size;
-- `enable_seqscan = off` keeps it so when a plan is made while the tables are still small (a
-- new installation): a sequential scan chosen then would be cached and read every row of a
-- table that has since grown.
ALTER FUNCTION tasker_apply_batch(uuid[], text[], int8[], text[], text[], float8[], float8[], uuid[], uuid[], text[], text[],
    int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[], text[], bool[], text[], text[], text[],
    text[], text[], uuid[], text[], int8[])
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION tasker_create_tasks(uuid[], text[], text[], text[], text[], text[], text[], text[], text[], text[], int8[],
    int8[], bool, text, uuid[], uuid[], text[], text[], int8[], bool[], int8[], float8[], float8[], float8[], float8[], text[],
    int8[], uuid[], uuid[], uuid[])
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;

-- What a dispatch of a step carries, as one JSON document (read by PostgresStore.DispatchRow).
-- STABLE: it reads with the snapshot of the statement that calls it.
CREATE FUNCTION tasker_dispatch_document(p_step uuid) RETURNS text LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
                   'id', s.id, 'name', s.name, 'state', s.state, 'handler', s.handler, 'attempts', s.attempts,
                   'max_attempts', s.max_attempts + s.attempt_base, 'timeout_seconds', s.timeout_seconds,
                   'handler_config', s.handler_config, 'task_id', t.id, 'namespace', t.namespace, 'template', t.name,
                   'version', t.version, 'context', t.context,
                   'parents', COALESCE((SELECT jsonb_agg(jsonb_build_array(p.id, p.name, p.results))
                                        FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
                                        WHERE e.child_step_id = s.id), '[]'::jsonb))::text
        FROM steps s JOIN tasks t ON t.id = s.task_id WHERE s.id = p_step);
END;
$$;

-- The finalizer's lock-and-load (LockBatchStatement): the tasks, then the reported steps, then
-- the children of the steps reported completed, each locked in id order (the branches of a
-- UNION ALL run one after another, so every batch takes its locks in the same order). Column
-- r_kind says which kind of row it is: 0 task, 1 step, 2 child (whose parent id is in r_name).
--
-- A child whose unfinished parents are all among the batch's completed steps will probably be
-- dispatched by the batch: its row also carries its dispatch document, read under the same
-- locks. The document is read with the query's snapshot, taken before the locks were granted,
-- and only when that snapshot's version of the child equals the locked (newest) row: if
-- another transaction changed the child while this one waited for its lock, no document is
-- returned and the batch reads it in a statement of its own, whose snapshot has that change.
CREATE FUNCTION tasker_lock_batch(p_tasks uuid[], p_steps uuid[], p_completed uuid[])
RETURNS TABLE (r_kind int4, r_id uuid, r_task uuid, r_state text, r_name text, r_n1 int4, r_n2 int4, r_n3 int4, r_n4 int4,
               r_flag bool, r_f1 float8, r_f2 float8, r_f3 float8, r_f4 float8, r_document text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
        SELECT 0, t.id, NULL::uuid, t.state, '', t.steps_total, t.steps_done, t.steps_error, t.steps_active,
               false, 0::float8, 0::float8, 0::float8, 0::float8, NULL::text
        FROM (SELECT x.id, x.state, x.steps_total, x.steps_done, x.steps_error, x.steps_active FROM tasks x
              WHERE x.id = ANY(p_tasks) ORDER BY x.id FOR UPDATE) t
        UNION ALL
        SELECT 1, s.id, s.task_id, s.state, s.name, s.attempts, s.max_attempts, s.attempt_base, 0,
               s.retryable, s.backoff_base_seconds, s.backoff_max_seconds, s.backoff_jitter, s.timeout_seconds, NULL::text
        FROM (SELECT x.id, x.task_id, x.state, x.name, x.attempts, x.max_attempts, x.attempt_base, x.retryable,
                     x.backoff_base_seconds, x.backoff_max_seconds, x.backoff_jitter, x.timeout_seconds
              FROM steps x WHERE x.id = ANY(p_steps) ORDER BY x.id FOR UPDATE) s
        UNION ALL
        SELECT 2, c.id, c.task_id, c.state, c.parent::text, c.unfinished_parents, 0, 0, 0,
               false, 0::float8, 0::float8, 0::float8, 0::float8,
               CASE WHEN c.first AND c.unfinished_parents <= c.completing
                         AND (SELECT (v.state, v.attempts, v.unfinished_parents) = (c.state, c.attempts, c.unfinished_parents)
                              FROM steps v WHERE v.id = c.id)
                    THEN tasker_dispatch_document(c.id) END
        FROM (SELECT l.*, count(*) OVER (PARTITION BY l.id) AS completing,
                     row_number() OVER (PARTITION BY l.id ORDER BY l.parent) = 1 AS first
              FROM (SELECT e.parent_step_id AS parent, x.id, x.task_id, x.state, x.attempts, x.unfinished_parents
                    FROM step_edges e JOIN steps x ON x.id = e.child_step_id
                    WHERE e.parent_step_id = ANY(p_completed) ORDER BY x.id FOR UPDATE OF x) l) c;
END;
$$;
