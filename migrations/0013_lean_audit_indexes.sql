-- Hot path (issue 10), third round: fewer index entries per transition and per step update.
--
-- Clearing `most_recent` on the previous audit row is the one update the trail allows. While
-- the flag was in a partial unique index, every clear was a new row version with an entry in
-- every index of the table. With no index on the flag, and free space left in each page
-- (fillfactor), the clear is a heap-only update that adds no index entry. The rule "at most one
-- most_recent row per step or task" is kept by the single writer of a step's transitions: the
-- transaction holding the step's (or task's) row lock, which clears the flag and inserts the new
-- newest row together (tasker_apply_batch); `MigrationTests` checks the rule on a real trail.
--
-- Nearly every row has its flag cleared once (all but each step's last), so a page needs room
-- for about as many new versions as it has rows: fillfactor 60 leaves it, and pruning reclaims
-- the old versions when the page is next touched.
DROP INDEX IF EXISTS step_transitions_most_recent;
DROP INDEX IF EXISTS task_transitions_most_recent;
ALTER TABLE step_transitions SET (fillfactor = 60);
ALTER TABLE task_transitions SET (fillfactor = 60);

-- Reads of a task's step trail go through its steps (`steps_name_unique` leads with task_id),
-- then each step's (step_id, sort_key) entries: one index entry less for every audit row.
DROP INDEX IF EXISTS step_transitions_by_task;

-- Every read of steps by task uses `steps_name_unique` (task_id, name); none filters by state
-- through this index, and each state change of a step paid for an entry in it.
DROP INDEX IF EXISTS steps_by_task_state;

-- The append-only rule is checked in the trigger's WHEN condition, so a legal clear of
-- `most_recent` runs no PL/pgSQL at all; only a forbidden update reaches the function (which
-- raises). Deletes still go through it (allowed only with `tasker.allow_purge`).
DROP TRIGGER IF EXISTS step_transitions_append_only ON step_transitions;
DROP TRIGGER IF EXISTS task_transitions_append_only ON task_transitions;
CREATE TRIGGER step_transitions_append_only BEFORE DELETE ON step_transitions
    FOR EACH ROW EXECUTE FUNCTION tasker_transitions_append_only();
CREATE TRIGGER task_transitions_append_only BEFORE DELETE ON task_transitions
    FOR EACH ROW EXECUTE FUNCTION tasker_transitions_append_only();
CREATE TRIGGER step_transitions_only_clear_most_recent BEFORE UPDATE ON step_transitions
    FOR EACH ROW WHEN (NEW.most_recent OR NOT OLD.most_recent
        OR (NEW.id, NEW.step_id, NEW.task_id, NEW.from_state, NEW.to_state, NEW.sort_key, NEW.metadata, NEW.created_at)
           IS DISTINCT FROM (OLD.id, OLD.step_id, OLD.task_id, OLD.from_state, OLD.to_state, OLD.sort_key, OLD.metadata, OLD.created_at))
    EXECUTE FUNCTION tasker_transitions_append_only();
CREATE TRIGGER task_transitions_only_clear_most_recent BEFORE UPDATE ON task_transitions
    FOR EACH ROW WHEN (NEW.most_recent OR NOT OLD.most_recent
        OR (NEW.id, NEW.task_id, NEW.from_state, NEW.to_state, NEW.sort_key, NEW.metadata, NEW.created_at)
           IS DISTINCT FROM (OLD.id, OLD.task_id, OLD.from_state, OLD.to_state, OLD.sort_key, OLD.metadata, OLD.created_at))
    EXECUTE FUNCTION tasker_transitions_append_only();
