-- Operator actions (cancel, retry, resolve): who did what to which task, and why.
--
-- One row per applied action, written in the same transaction as the transitions it made;
-- those transitions carry the row's id as `action_id` in their metadata (with the actor and
-- the reason), so the audit trail links every hand-made move to its action. Repeated or
-- refused actions change nothing and write no row. Rows are append-only, like transitions.
CREATE TABLE operator_actions (
    id          UUID PRIMARY KEY,
    task_id     UUID        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    step_id     UUID        REFERENCES steps (id) ON DELETE CASCADE,
    action      TEXT        NOT NULL,  -- cancel_task, retry_task, retry_step, resolve_step, resolve_task
    actor       TEXT        NOT NULL,
    reason      TEXT        NOT NULL,
    results     JSONB,                 -- resolve_step: the results the operator supplied
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX operator_actions_by_task ON operator_actions (task_id, created_at);

CREATE FUNCTION tasker_operator_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tasker.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'operator_actions rows are append-only';
END;
$$;
CREATE TRIGGER operator_actions_append_only BEFORE UPDATE OR DELETE ON operator_actions
    FOR EACH ROW EXECUTE FUNCTION tasker_operator_actions_append_only();

-- An operator's retry restarts a step's retry budget without reusing attempt numbers: the
-- attempts made before the retry. The budget check is `attempt - attempt_base` against
-- `max_attempts`; dispatches and events announce `max_attempts + attempt_base`.
ALTER TABLE steps ADD COLUMN attempt_base INTEGER NOT NULL DEFAULT 0;
