-- Hot path (issue 10), sixth round: steps and task audit rows without foreign keys to `tasks`.
--
-- As with the step rows (0020): each inserted step and task audit row was checked against
-- `tasks` by a query through SPI that also took a KEY SHARE lock on the task's row (a heap
-- write and a WAL record): six to eight per diamond, most of them in the coordinator's
-- creation call. Their only writers insert them for tasks that exist by construction: steps and
-- the first audit rows in the statement that creates their task (tasker_create_tasks), later
-- audit rows for tasks the same statement has locked (tasker_apply_batch).
--
-- Deleting tasks deletes their steps (and through 0020 their edges and audit rows) and their
-- audit rows in the same statement, by trigger; operator actions keep their foreign key and its
-- cascade (they are rare). Audit rows still go only in a purge (`tasker.allow_purge`).
ALTER TABLE steps DROP CONSTRAINT IF EXISTS steps_task_id_fkey;
ALTER TABLE task_transitions DROP CONSTRAINT IF EXISTS task_transitions_task_id_fkey;

CREATE FUNCTION tasker_delete_task_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM steps WHERE task_id IN (SELECT id FROM deleted_tasks);
    DELETE FROM task_transitions WHERE task_id IN (SELECT id FROM deleted_tasks);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_delete_their_rows AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS deleted_tasks FOR EACH STATEMENT EXECUTE FUNCTION tasker_delete_task_rows();
