-- Hot path (issue 10), sixth round: step audit rows and edges without foreign keys.
--
-- Every audit row of a step and every edge was checked against `steps` when inserted: a query
-- per row through SPI that also takes a KEY SHARE lock on the step's row (a heap write and a WAL
-- record). For a diamond that is ~20 checks, 12 % of PostgreSQL's CPU under the throughput
-- benchmark. Their only writers insert them for steps that exist by construction: edges with
-- their steps, in the statement that creates them (tasker_create_tasks), and audit rows for the
-- steps the same statement updates under their task's lock (tasker_apply_batch).
--
-- What the foreign keys also did, deleting a task's rows with it, a trigger now does: deleting
-- steps (directly, or through the cascade from `tasks`) deletes their edges and audit rows in
-- the same statement. Audit rows stay append-only: their guard trigger (0001, 0009) still only
-- lets a purge (`tasker.allow_purge`) delete them.
ALTER TABLE step_transitions DROP CONSTRAINT IF EXISTS step_transitions_step_id_fkey;
ALTER TABLE step_edges DROP CONSTRAINT IF EXISTS step_edges_parent_step_id_fkey;
ALTER TABLE step_edges DROP CONSTRAINT IF EXISTS step_edges_child_step_id_fkey;

CREATE FUNCTION tasker_delete_step_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM step_edges WHERE parent_step_id IN (SELECT id FROM deleted_steps);
    DELETE FROM step_edges WHERE child_step_id IN (SELECT id FROM deleted_steps);
    DELETE FROM step_transitions WHERE step_id IN (SELECT id FROM deleted_steps);
    RETURN NULL;
END;
$$;

CREATE TRIGGER steps_delete_their_rows AFTER DELETE ON steps
    REFERENCING OLD TABLE AS deleted_steps FOR EACH STATEMENT EXECUTE FUNCTION tasker_delete_step_rows();
