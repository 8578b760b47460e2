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

-- A task may move more than once in a batch (an operator's retry of a failed task:
-- error → pending → in_progress). tasker_apply_batch (migration 0007) is replaced, with the same
-- parameters, so that several moves of one task are applied in order: consecutive sort keys,
-- the last one `most_recent` and the task's state. Everything else is unchanged.
CREATE OR REPLACE FUNCTION tasker_apply_batch(
    -- step rows: the new state of each changed step
    s_ids uuid[], s_states text[], s_attempts int8[], s_results text[], s_errors text[],
    s_next_retry float8[], s_deadlines float8[],
    -- audit rows: offsets are added to the step's stored maximum sort key
    t_steps uuid[], t_tasks uuid[], t_from text[], t_to text[], t_offsets int8[], t_newest bool[], t_metadata text[],
    -- the tasks' step counts move with their steps
    c_tasks uuid[], c_done int8[], c_failed int8[], c_active int8[],
    -- fan-in: children's remaining unfinished parents
    u_steps uuid[], u_counts int8[],
    -- task moves (already checked against the task state machine)
    m_tasks uuid[], m_to text[], m_finished bool[], m_from text[], m_metadata text[],
    -- the batch's messages: one outbox row
    o_exchanges text[], o_routing_keys text[], o_types text[], o_ids uuid[], o_bodies text[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    outbox_id bigint;
BEGIN
    IF cardinality(c_tasks) > 0 THEN
        UPDATE tasks t SET steps_done = t.steps_done + d.done, steps_error = t.steps_error + d.failed,
                           steps_active = t.steps_active + d.active
        FROM unnest(c_tasks, c_done, c_failed, c_active) AS d(id, done, failed, active)
        WHERE t.id = d.id AND t.id = ANY(c_tasks);
    END IF;
    IF cardinality(s_ids) > 0 THEN
        UPDATE step_transitions SET most_recent = false WHERE step_id = ANY(s_ids) AND most_recent;
        UPDATE steps s SET state = i.state, attempts = i.attempts, updated_at = now(),
               results = COALESCE(NULLIF(i.results, '')::jsonb, s.results),
               last_error = COALESCE(NULLIF(i.last_error, '')::jsonb, s.last_error),
               next_retry_at = CASE WHEN i.next_retry_at < 0 THEN NULL ELSE to_timestamp(i.next_retry_at) END,
               deadline = CASE WHEN i.deadline < 0 THEN NULL ELSE to_timestamp(i.deadline) END
        FROM unnest(s_ids, s_states, s_attempts, s_results, s_errors, s_next_retry, s_deadlines)
             AS i(id, state, attempts, results, last_error, next_retry_at, deadline)
        WHERE s.id = i.id AND s.id = ANY(s_ids);
    END IF;
    IF cardinality(t_steps) > 0 THEN
        INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
        SELECT i.step_id, i.task_id, i.from_state, i.to_state,
               COALESCE((SELECT max(x.sort_key) FROM step_transitions x WHERE x.step_id = i.step_id), 0) + i.sort_offset,
               i.most_recent, i.metadata::jsonb
        FROM unnest(t_steps, t_tasks, t_from, t_to, t_offsets, t_newest, t_metadata)
             AS i(step_id, task_id, from_state, to_state, sort_offset, most_recent, metadata);
    END IF;
    IF cardinality(u_steps) > 0 THEN
        UPDATE steps s SET unfinished_parents = c.n
        FROM unnest(u_steps, u_counts) AS c(id, n)
        WHERE s.id = c.id AND s.id = ANY(u_steps);
    END IF;
    IF cardinality(m_tasks) > 0 THEN
        UPDATE task_transitions SET most_recent = false WHERE task_id = ANY(m_tasks) AND most_recent;
        UPDATE tasks t SET state = i.to_state, updated_at = now(),
               completed_at = CASE WHEN i.finished THEN now() ELSE NULL END
        FROM (SELECT DISTINCT ON (u.id) u.id, u.to_state, u.finished
              FROM unnest(m_tasks, m_to, m_finished) WITH ORDINALITY AS u(id, to_state, finished, n)
              ORDER BY u.id, u.n DESC) i
        WHERE t.id = i.id AND t.id = ANY(m_tasks);
        INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata)
        SELECT i.id, i.from_state, i.to_state,
               COALESCE((SELECT max(x.sort_key) FROM task_transitions x WHERE x.task_id = i.id), 0)
                   + row_number() OVER (PARTITION BY i.id ORDER BY i.n),
               i.n = max(i.n) OVER (PARTITION BY i.id),
               i.metadata::jsonb
        FROM unnest(m_tasks, m_from, m_to, m_metadata) WITH ORDINALITY AS i(id, from_state, to_state, metadata, n);
    END IF;
    IF cardinality(o_ids) > 0 THEN
        INSERT INTO outbox_batches (exchanges, routing_keys, message_types, message_ids, bodies)
        VALUES (o_exchanges, o_routing_keys, o_types, o_ids, o_bodies)
        RETURNING id INTO outbox_id;
    END IF;
    RETURN outbox_id;
END;
$$;
