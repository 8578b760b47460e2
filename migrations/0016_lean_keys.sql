-- Hot path (issue 10), fourth round: fewer index entries for every row the pipeline writes.
--
-- * The audit tables are keyed by (entity, sort_key), the unique constraint every insert
--   checks anyway. The surrogate `id` keeps its sequence (each row still gets an id, in insert
--   order) but loses its index: nothing reads a transition by id, and the index cost one entry
--   per audit row, four per step. The unique constraint becomes the tables' replica identity
--   (clearing `most_recent` is an update).
-- * `tasks_active_by_state` (state, created_at) for pending and in-progress tasks is a prefix
--   of `tasks_by_state_created` (state, created_at, id) from 0010, which serves the same reads.
-- * `step_edges_by_task`: the reads of a task's edges go through its steps (`steps_name_unique`
--   leads with task_id) and `step_edges_by_child`; every edge paid an entry in it.
ALTER TABLE step_transitions DROP CONSTRAINT step_transitions_pkey;
ALTER TABLE task_transitions DROP CONSTRAINT task_transitions_pkey;
ALTER TABLE step_transitions REPLICA IDENTITY USING INDEX step_transitions_sort_key_unique;
ALTER TABLE task_transitions REPLICA IDENTITY USING INDEX task_transitions_sort_key_unique;
DROP INDEX IF EXISTS tasks_active_by_state;
DROP INDEX IF EXISTS step_edges_by_task;
