-- Hot path (issue 10): fewer index and foreign-key checks per step, nothing the schema guarantees lost.
--
-- `steps_waiting_for_retry` (0005) is the same index as `steps_retry_due` (0001): every
-- update of a step row that changes its state paid for both.
DROP INDEX IF EXISTS steps_waiting_for_retry;

-- The task_id foreign keys of audit rows and edges duplicate what their step foreign keys
-- already guarantee: a step belongs to its task (steps_task_id_fkey), and deleting a task
-- deletes its steps, whose deletion cascades to their transitions and edges. Each of these
-- cost one `FOR KEY SHARE` lookup of the task row per inserted row.
ALTER TABLE step_transitions DROP CONSTRAINT IF EXISTS step_transitions_task_id_fkey;
ALTER TABLE step_edges DROP CONSTRAINT IF EXISTS step_edges_task_id_fkey;

-- A task row is updated several times per step (its step counts). Free space in its page
-- lets PostgreSQL make those updates heap-only (none of the changed columns is indexed), so
-- they stop adding entries to every index of `tasks`.
ALTER TABLE tasks SET (fillfactor = 80);
